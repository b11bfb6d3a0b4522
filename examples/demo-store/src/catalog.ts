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

/** An icon per category theme of the generator (a fallback for others). */
const CATEGORY_ICONS: Record<string, string> = {
  Outdoor: '⛺',
  Kitchen: '🍳',
  Electronics: '🎧',
  Books: '📚',
  Fashion: '👕',
  Sports: '🏃',
  Beauty: '🧴',
  Home: '🛋️',
  Toys: '🧸',
  Garden: '🌱',
  Pets: '🐾',
  Office: '📎',
  Grocery: '☕',
  Music: '🎸',
  Baby: '🍼',
  Automotive: '🚗',
}

/** The icon shown on a product's swatch. */
export function categoryIcon(category: string): string {
  return CATEGORY_ICONS[category] ?? '🛍️'
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
