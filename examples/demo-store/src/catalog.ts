/** One product of the demo catalog (written by the trainer's generator). */
export interface Product {
  id: string
  name: string
  category: string
  price: number
  color: string
}

interface RawProduct {
  id?: string
  itemId?: string
  name?: string
  category?: string
  price?: number
  color?: string
  colour?: string
}

/** Reads the generator's catalog JSON (`{ items: [...] }` or a bare array), tolerant of field spellings. */
export function parseCatalog(json: unknown): Product[] {
  const list = Array.isArray(json) ? json : ((json as { items?: unknown })?.items ?? [])
  if (!Array.isArray(list)) return []
  return (list as RawProduct[])
    .map((p) => ({
      id: String(p.id ?? p.itemId ?? ''),
      name: String(p.name ?? p.id ?? p.itemId ?? ''),
      category: String(p.category ?? 'Other'),
      price: typeof p.price === 'number' ? p.price : 0,
      color: String(p.color ?? p.colour ?? '#888888'),
    }))
    .filter((p) => p.id.length > 0)
}

/** A deterministic pastel for a category name, used for chips and badges. */
export function categoryHue(category: string): number {
  let h = 0
  for (let i = 0; i < category.length; i++) h = (h * 31 + category.charCodeAt(i)) >>> 0
  return h % 360
}
