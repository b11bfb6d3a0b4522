import { AdapterError } from '../errors.js'
import type { Scheduler } from '../schedule/schedule.js'
import { loadProvider } from './load-provider.js'
import type { ComputeConfig } from './types.js'
import { validateComputeConfig } from './validate.js'

/**
 * Builds the scheduler of a cloud compute: EventBridge Scheduler for `sagemaker`, Cloud Scheduler
 * for `vertex-ai`, the workspace's schedules for `azure-ml`. Only the chosen provider's module loads.
 *
 * @throws AdapterError `UNSUPPORTED` for computes without a scheduler (`local`): the message points
 *   at the CI cron template
 *
 * @example
 * ```ts
 * const scheduler = await createScheduler(config.compute)
 * await scheduler.create({ name: 'edgerec-nightly', cron: '17 3 * * *', run })
 * ```
 */
export async function createScheduler(input: ComputeConfig): Promise<Scheduler> {
  const config = validateComputeConfig(input)
  if (config.provider === 'sagemaker') {
    const { provider: _provider, ...options } = config
    const { EventBridgeScheduler } = await loadProvider(
      'compute',
      'sagemaker',
      ['@aws-sdk/client-scheduler', '@aws-sdk/client-sagemaker'],
      () => import('../aws/schedule.js'),
    )
    return new EventBridgeScheduler(options)
  }
  if (config.provider === 'vertex-ai') {
    const { provider: _provider, ...options } = config
    const { CloudSchedulerVertexAi } = await loadProvider(
      'compute',
      'vertex-ai',
      ['@google-cloud/scheduler', '@google-cloud/aiplatform', 'google-auth-library'],
      () => import('../gcp/schedule.js'),
    )
    return new CloudSchedulerVertexAi(options)
  }
  if (config.provider === 'azure-ml') {
    const { provider: _provider, ...options } = config
    const { AzureMlScheduler } = await loadProvider(
      'compute',
      'azure-ml',
      ['@azure/arm-machinelearning', '@azure/identity', 'windows-iana'],
      () => import('../azure/schedule.js'),
    )
    return new AzureMlScheduler(options)
  }
  throw new AdapterError(
    'UNSUPPORTED',
    `Schedules live in a cloud account's own scheduler (compute 'sagemaker', 'vertex-ai' or 'azure-ml'), not for '${config.provider}'. ` +
      'Retrain on a cron from CI instead: examples/github-actions/retrain.yml runs edgerec-train train --if-stale --publish.',
  )
}
