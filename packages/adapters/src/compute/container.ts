import { AdapterError } from '../errors.js'
import type { TrainingRun } from './compute.js'

/**
 * Entrypoint of the trainer image (`packages/trainer/Dockerfile`): turns `EDGEREC_CONFIG` /
 * `EDGEREC_CONFIG_JSON` into `--config` and runs `edgerec-train "$@"`.
 */
export const CONTAINER_ENTRYPOINT = '/usr/local/bin/edgerec-entrypoint'

/** How a cloud job starts the trainer container. */
export interface ContainerInvocation {
  entrypoint: string[]
  /** Arguments after the entrypoint: `train` and the run's extra args. */
  args: string[]
  /** Run env plus `EDGEREC_CONFIG` or `EDGEREC_CONFIG_JSON`, and `EDGEREC_OUTPUT`. */
  env: Record<string, string>
}

const RESERVED_ENV = ['EDGEREC_CONFIG', 'EDGEREC_CONFIG_JSON', 'EDGEREC_OUTPUT']

/**
 * The container command and environment for a run, shared by the cloud computes.
 *
 * @internal
 */
export function containerInvocation(run: TrainingRun): ContainerInvocation {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(run.env ?? {})) {
    if (RESERVED_ENV.includes(key)) {
      throw new AdapterError(
        'CONFIG_INVALID',
        `run.env.${key} is set by edgerec itself. Use run.config (for the config) or run.output (for the model registry) instead.`,
      )
    }
    env[key] = value
  }
  if (run.config && 'path' in run.config) env.EDGEREC_CONFIG = run.config.path
  if (run.config && 'inline' in run.config) env.EDGEREC_CONFIG_JSON = JSON.stringify(run.config.inline)
  if (run.output) env.EDGEREC_OUTPUT = JSON.stringify(run.output)
  return { entrypoint: [CONTAINER_ENTRYPOINT], args: ['train', ...(run.args ?? [])], env }
}

/**
 * A unique job name: `<prefix>-<YYYYMMDDHHMMSS>-<4 hex>`, at most 63 characters of letters, digits
 * and hyphens (valid on SageMaker, Vertex AI and Azure ML).
 */
export function jobName(prefix = 'edgerec-train', now: Date = new Date()): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(prefix)) {
    throw new AdapterError(
      'CONFIG_INVALID',
      `run.name ${JSON.stringify(prefix)} must start with a letter or digit and hold only letters, digits and hyphens.`,
    )
  }
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14)
  const random = Math.floor(Math.random() * 0x10000)
    .toString(16)
    .padStart(4, '0')
  return `${prefix.slice(0, 63 - 20)}-${stamp}-${random}`
}
