/**
 * Admin rules (boosts, pins, diversity defaults; docs/catalog.md "Rules"): stored as one JSON
 * document in KV (`config/rules`), read by each isolate at most once per `CATALOG_REFRESH_SECONDS`.
 *
 * @module
 */
import { type CompiledRules, compileRules } from '@edgerec/core'

/** KV key of the rules document. */
export const RULES_KEY = 'config/rules'

/** Per-isolate cache of the rules. */
export class RulesStore {
  #rules: CompiledRules | undefined
  #checkedAt = Number.NEGATIVE_INFINITY
  #pending: Promise<void> | undefined
  #lastError: string | null = null

  /** The rules in force (undefined: none). Refreshes from KV when the interval has passed. */
  async current(kv: KVNamespace, now: number, refreshMs: number): Promise<CompiledRules | undefined> {
    if (!this.#pending && now - this.#checkedAt >= refreshMs) {
      this.#checkedAt = now
      this.#pending = kv
        .get(RULES_KEY, 'text')
        .then(
          (text) => {
            if (text === null) {
              this.#rules = undefined
              return
            }
            const compiled = compileRules(JSON.parse(text))
            if (compiled.ok) this.#rules = compiled.rules
            else
              this.#lastError = `Stored rules are invalid: ${compiled.errors.map((e) => e.message).join(' ')}`
          },
          (error: unknown) => {
            this.#lastError = error instanceof Error ? error.message : String(error)
          },
        )
        .finally(() => {
          this.#pending = undefined
        })
    }
    if (this.#pending) await this.#pending
    return this.#rules
  }

  /** Sets the rules of this isolate at once (after `PUT /v1/admin/rules`). */
  set(rules: CompiledRules | undefined, now: number): void {
    this.#rules = rules
    this.#checkedAt = now
  }

  get lastError(): string | null {
    return this.#lastError
  }
}
