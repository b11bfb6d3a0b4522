/**
 * The event queue's pure operations: a bounded FIFO that drops the oldest events first, and batch
 * helpers. The client keeps the array and persists it; these functions only reshape it.
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
 * Splits `items` into consecutive chunks of at most `maxCount` items whose summed `itemBytes` (plus
 * one separator byte each) stays within `maxBytes`. An item too large on its own gets a chunk of
 * its own (the server decides about it).
 */
export function chunkBySize<T>(
  items: readonly T[],
  maxCount: number,
  maxBytes: number,
  itemBytes: (item: T) => number,
): T[][] {
  const chunks: T[][] = []
  let chunk: T[] = []
  let bytes = 0
  for (const item of items) {
    const size = itemBytes(item) + 1
    if (chunk.length && (chunk.length >= maxCount || bytes + size > maxBytes)) {
      chunks.push(chunk)
      chunk = []
      bytes = 0
    }
    chunk.push(item)
    bytes += size
  }
  if (chunk.length) chunks.push(chunk)
  return chunks
}
