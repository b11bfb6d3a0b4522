/**
 * The event queue's pure operations: a bounded FIFO that drops the oldest events first, and batch
 * selection. The client keeps the array and persists it; these functions only reshape it.
 *
 * @module
 */

/**
 * Appends `item`, then drops the oldest items until at most `max` remain.
 *
 * @returns how many items were dropped
 */
export function enqueue<T>(queue: T[], item: T, max: number): number {
  queue.push(item)
  const over = queue.length - Math.max(1, max)
  if (over > 0) queue.splice(0, over)
  return Math.max(over, 0)
}

/** Removes, in place, every item whose `id` is in `ids` (acknowledged or rejected by the server). */
export function removeIds<T extends { id: string }>(queue: T[], ids: ReadonlySet<string>): void {
  let kept = 0
  for (const item of queue) if (!ids.has(item.id)) queue[kept++] = item
  queue.length = kept
}

/**
 * The oldest items, in order, whose summed `itemBytes` (plus one separator byte each) stays within
 * `maxBytes`: at most `maxCount` of them. An item too large on its own is never taken.
 */
export function takeWithin<T>(
  items: readonly T[],
  maxCount: number,
  maxBytes: number,
  itemBytes: (item: T) => number,
): T[] {
  const taken: T[] = []
  let bytes = 0
  for (const item of items) {
    bytes += itemBytes(item) + 1
    if (bytes > maxBytes || taken.length >= maxCount) break
    taken.push(item)
  }
  return taken
}
