import { VERSION_PATTERN } from '@edgerec/core'
import { listAll, type Storage } from '../storage/storage.js'

const MANIFEST_KEY = /^models\/([^/]+)\/manifest\.json$/

/** Tolerated clock difference between the submitting machine and the training machine. */
const CLOCK_SKEW_MS = 120_000

/** A complete version in a model registry (one whose manifest exists). */
export interface RegistryVersion {
  version: string
  /** Epoch ms of the manifest's `createdAt`. */
  createdAt: number
}

/**
 * Complete versions in a model registry, oldest first. A version is complete when its manifest
 * exists (the trainer writes it last).
 */
export async function listCompleteVersions(storage: Storage): Promise<RegistryVersion[]> {
  const out: RegistryVersion[] = []
  for (const object of await listAll(storage, 'models/')) {
    const match = MANIFEST_KEY.exec(object.key)
    if (!match || !VERSION_PATTERN.test(match[1]!)) continue
    const bytes = await storage.get(object.key)
    if (!bytes) continue
    let createdAt = Number.NaN
    try {
      const parsed = JSON.parse(new TextDecoder().decode(bytes)) as { createdAt?: unknown }
      if (typeof parsed.createdAt === 'string') createdAt = Date.parse(parsed.createdAt)
    } catch {
      // NOTE: an unreadable manifest is not a complete version; skip it like a missing one.
    }
    if (Number.isFinite(createdAt)) out.push({ version: match[1]!, createdAt })
  }
  return out.sort((a, b) => a.createdAt - b.createdAt || (a.version < b.version ? -1 : 1))
}

/**
 * The newest complete version created at or after `since` (epoch ms, minus two minutes of clock
 * skew), or `undefined`.
 */
export async function findVersionSince(storage: Storage, since: number): Promise<string | undefined> {
  const versions = await listCompleteVersions(storage)
  const fresh = versions.filter((v) => v.createdAt >= since - CLOCK_SKEW_MS)
  return fresh.at(-1)?.version
}
