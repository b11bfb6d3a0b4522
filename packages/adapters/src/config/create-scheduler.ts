import { AdapterError } from '../errors.js'
import type { Scheduler } from '../schedule/schedule.js'
import { loadProvider } from './load-provider.js'
import type { ComputeConfig } from './types.js'
import { validateComputeConfig } from './validate.js'

/**
 * Builds the scheduler of a cloud compute: EventBridge Scheduler for `sagemaker`. Only the
 * chosen provider's module loads.
 *
 * @throws AdapterError `UNSUPPORTED` for computes without a scheduler yet (`local`, `vertex-ai`,
 *   `azure-ml`): the message points at the CI cron template
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
  throw new AdapterError(
    'UNSUPPORTED',
    `Schedules in the account's own scheduler exist for compute 'sagemaker' (EventBridge Scheduler) so far, not for '${config.provider}'. ` +
      'Retrain on a cron from CI instead: examples/github-actions/retrain.yml runs edgerec-train train --if-stale --publish.',
  )
}
