/**
 * `Server-Timing` of one request (`SERVER_TIMING=on`, off by default): where a recommendation's
 * milliseconds go (the model and the user's events, the user's vector, probing, list reads and
 * their verification, ranking), so a benchmark can measure them instead of guessing. The
 * durations are wall-clock between awaits: workerd advances its clock only at I/O, so a phase of
 * pure computation may read 0 there (what it measures is then the I/O around it).
 *
 * @module
 */

/** Named phases of one request, summed per name, in the order first seen. */
export class ServerTiming {
  readonly #phases = new Map<string, number>()

  /** Adds `ms` to phase `name`. */
  add(name: string, ms: number): void {
    this.#phases.set(name, (this.#phases.get(name) ?? 0) + ms)
  }

  /** Awaits `work`, adding the wait to phase `name`. */
  async time<T>(name: string, work: Promise<T>): Promise<T> {
    const started = performance.now()
    try {
      return await work
    } finally {
      this.add(name, performance.now() - started)
    }
  }

  /** Runs `work` synchronously, adding its duration to phase `name`. */
  timeSync<T>(name: string, work: () => T): T {
    const started = performance.now()
    try {
      return work()
    } finally {
      this.add(name, performance.now() - started)
    }
  }

  /** The header's value: `name;dur=1.25, …`. */
  header(): string {
    return [...this.#phases].map(([name, ms]) => `${name};dur=${ms.toFixed(2)}`).join(', ')
  }
}
