/**
 * The schedule contract. Providers live in `../aws` (EventBridge Scheduler); build one from a
 * compute config with `createScheduler`.
 *
 * @module
 */
export type { ScheduleInfo, Scheduler, ScheduleSpec } from './schedule.js'
export { cronFields } from './schedule.js'
