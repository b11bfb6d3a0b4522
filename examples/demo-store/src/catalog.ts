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

/** CSS colours for the generator's colour names (some, like `sand`, are not CSS keywords). */
const COLOUR_CSS: Record<string, string> = {
  black: '#2b2d31',
  white: '#f4f4f0',
  grey: '#9aa0a6',
  navy: '#24365f',
  red: '#c8372d',
  green: '#3f8f4f',
  olive: '#7a7f3a',
  sand: '#d9c7a3',
  blue: '#3b7dd8',
  orange: '#ee8a2f',
  pink: '#e58fb1',
  brown: '#7b5234',
}

/** A CSS colour for a colour name or CSS value from the catalog. */
export function colourCss(colour: string): string {
  return COLOUR_CSS[colour.toLowerCase()] ?? colour
}

/**
 * The monogram printed on a product's swatch: the initials of its first two words ("Cozy Grooming
 * Brush Large" → "CG"). Letters render in every browser, unlike emoji in a bare headless one.
 */
export function monogram(name: string): string {
  return name
    .split(/\s+/)
    .filter((w) => /^[A-Za-z0-9]/.test(w))
    .slice(0, 2)
    .map((w) => w[0]!.toUpperCase())
    .join('')
}

/** Whether a `#rrggbb` colour is light (dark text reads better on it). */
export function isLight(colour: string): boolean {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(colour)
  if (!m) return false
  const [r, g, b] = [m[1]!, m[2]!, m[3]!].map((h) => Number.parseInt(h, 16))
  return 0.299 * r! + 0.587 * g! + 0.114 * b! > 170
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
      color: colourCss(String(p.color ?? p.colour ?? '#888888')),
    }))
    .filter((p) => p.id.length > 0)
}

/** A deterministic pastel for a category name, used for chips and badges. */
export function categoryHue(category: string): number {
  let h = 0
  for (let i = 0; i < category.length; i++) h = (h * 31 + category.charCodeAt(i)) >>> 0
  return h % 360
}
