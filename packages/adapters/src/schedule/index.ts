/**
 * The schedule contract. Providers live in `../aws` (EventBridge Scheduler), `../gcp` (Cloud
 * Scheduler) and `../azure` (Azure ML schedules); build one from a compute config with `createScheduler`.
 *
 * @module
 */
export type { ScheduleInfo, Scheduler, ScheduleSpec } from './schedule.js'
export { cronFields } from './schedule.js'
