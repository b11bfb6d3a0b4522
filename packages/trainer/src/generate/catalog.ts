/**
 * The synthetic shop's catalog: categories with readable names, items with names, prices and
 * colours, and power-law popularity within and across categories. Everything is a pure function of
 * the options and the seed.
 *
 * @module
 */
import { TrainerError } from '../errors.js'
import { Random } from './random.js'

/** One catalog item (what the demo store page shows). */
export interface CatalogItem {
  id: string
  name: string
  category: string
  /** Price in the shop's currency, two decimals. */
  price: number
  colour: string
  /** Popularity rank inside its category (0 = most popular). */
  rankInCategory: number
}

/** A category with its share of the shop's traffic. */
export interface CatalogCategory {
  name: string
  /** Fraction of all traffic (Zipf over categories), sums to 1. */
  share: number
  /** Item indexes of this category, most popular first. */
  items: number[]
}

/** The generated catalog. */
export interface Catalog {
  categories: CatalogCategory[]
  items: CatalogItem[]
}

/** Options shared by the catalog and the event generator. */
export interface CatalogOptions {
  /** Items in the shop. */
  items: number
  /** Categories (at most {@link CATEGORY_THEMES}.length = 16). Default 12. */
  categories?: number
  /** Zipf exponent of item popularity inside a category (p ∝ rank^−s). Default 1.0. */
  itemPopularityExponent?: number
  /** Zipf exponent of category traffic. Default 0.6. */
  categoryPopularityExponent?: number
  seed?: number
}

interface Theme {
  name: string
  adjectives: string[]
  nouns: string[]
  suffixes: string[]
  /** Typical price. */
  price: number
}

/** The category themes items are named from. */
export const CATEGORY_THEMES: readonly Theme[] = [
  {
    name: 'Outdoor',
    adjectives: ['Trail', 'Summit', 'Ridge', 'Alpine', 'Canyon', 'Basecamp'],
    nouns: [
      'Tent',
      'Sleeping Bag',
      'Backpack',
      'Headlamp',
      'Camp Stove',
      'Trekking Poles',
      'Hammock',
      'Water Filter',
    ],
    suffixes: ['2P', '40L', 'Pro', 'Lite', 'XL', 'Mini'],
    price: 80,
  },
  {
    name: 'Kitchen',
    adjectives: ['Copper', 'Cast Iron', 'Artisan', 'Nordic', 'Everyday', 'Chef'],
    nouns: [
      'Skillet',
      'Dutch Oven',
      'Kettle',
      'Cutting Board',
      'Mixing Bowl',
      'French Press',
      'Knife Set',
      'Saucepan',
    ],
    suffixes: ['24cm', 'Classic', 'Duo', 'Set of 3', 'Plus', 'Compact'],
    price: 45,
  },
  {
    name: 'Electronics',
    adjectives: ['Nova', 'Pulse', 'Quantum', 'Echo', 'Vertex', 'Orbit'],
    nouns: ['Headphones', 'Speaker', 'Smartwatch', 'Power Bank', 'Webcam', 'Keyboard', 'Mouse', 'Charger'],
    suffixes: ['X1', 'Mini', 'Pro', '2', 'Max', 'Air'],
    price: 120,
  },
  {
    name: 'Books',
    adjectives: ['The Silent', 'A Brief', 'The Lost', 'Modern', 'The Last', 'Hidden'],
    nouns: ['Garden', 'History of Time', 'Kingdom', 'Cookbook', 'Atlas', 'Letters', 'Island', 'Algorithm'],
    suffixes: ['(Paperback)', '(Hardcover)', '2nd Edition', 'Illustrated', 'Collected', 'Vol. 1'],
    price: 18,
  },
  {
    name: 'Fashion',
    adjectives: ['Linen', 'Denim', 'Merino', 'Classic', 'Relaxed', 'Tailored'],
    nouns: ['Shirt', 'Jacket', 'Jeans', 'Sweater', 'Scarf', 'Dress', 'Chinos', 'Hoodie'],
    suffixes: ['Slim', 'Regular', 'Oversized', 'Cropped', 'Long', 'Essential'],
    price: 55,
  },
  {
    name: 'Sports',
    adjectives: ['Velocity', 'Apex', 'Stride', 'Core', 'Sprint', 'Endurance'],
    nouns: [
      'Running Shoes',
      'Yoga Mat',
      'Dumbbells',
      'Jump Rope',
      'Cycling Gloves',
      'Water Bottle',
      'Resistance Bands',
      'Gym Bag',
    ],
    suffixes: ['v2', 'Pro', '5kg', 'Lite', 'Elite', 'Trainer'],
    price: 40,
  },
  {
    name: 'Beauty',
    adjectives: ['Radiant', 'Pure', 'Velvet', 'Botanical', 'Daily', 'Glow'],
    nouns: [
      'Face Serum',
      'Moisturizer',
      'Lip Balm',
      'Shampoo',
      'Body Lotion',
      'Sunscreen',
      'Face Mask',
      'Hand Cream',
    ],
    suffixes: ['30ml', 'SPF 50', 'Travel Size', 'Rich', 'Sensitive', 'Night'],
    price: 22,
  },
  {
    name: 'Home',
    adjectives: ['Oak', 'Woven', 'Minimal', 'Rustic', 'Soft', 'Coastal'],
    nouns: ['Throw Blanket', 'Table Lamp', 'Cushion', 'Wall Clock', 'Vase', 'Rug', 'Candle', 'Picture Frame'],
    suffixes: ['Large', 'Small', 'Set of 2', 'Round', 'Square', 'Tall'],
    price: 35,
  },
  {
    name: 'Toys',
    adjectives: ['Rocket', 'Dino', 'Rainbow', 'Magic', 'Tiny', 'Super'],
    nouns: [
      'Building Blocks',
      'Puzzle',
      'Plush Bear',
      'Race Car',
      'Board Game',
      'Kite',
      'Train Set',
      'Robot Kit',
    ],
    suffixes: ['500 pcs', 'Junior', 'Deluxe', 'Mini', 'Classic', 'XL'],
    price: 25,
  },
  {
    name: 'Garden',
    adjectives: ['Green', 'Evergreen', 'Sunny', 'Wild', 'Heritage', 'Urban'],
    nouns: [
      'Pruning Shears',
      'Watering Can',
      'Planter',
      'Seed Kit',
      'Garden Gloves',
      'Hose',
      'Bird Feeder',
      'Trowel',
    ],
    suffixes: ['10L', 'Pro', 'Set', 'Large', 'Compact', 'Balcony'],
    price: 28,
  },
  {
    name: 'Pets',
    adjectives: ['Happy', 'Cozy', 'Playful', 'Loyal', 'Fresh', 'Sturdy'],
    nouns: [
      'Dog Bed',
      'Cat Tree',
      'Leash',
      'Chew Toy',
      'Food Bowl',
      'Litter Box',
      'Pet Carrier',
      'Grooming Brush',
    ],
    suffixes: ['Medium', 'Large', 'Small', 'Deluxe', 'Travel', 'Twin'],
    price: 30,
  },
  {
    name: 'Office',
    adjectives: ['Focus', 'Studio', 'Ergo', 'Slate', 'Paper', 'Desk'],
    nouns: [
      'Notebook',
      'Desk Lamp',
      'Monitor Stand',
      'Pen Set',
      'Planner',
      'Desk Organizer',
      'Chair Cushion',
      'Whiteboard',
    ],
    suffixes: ['A5', 'Dotted', 'Pro', '2026', 'Wide', 'Mini'],
    price: 20,
  },
  {
    name: 'Grocery',
    adjectives: ['Organic', 'Roasted', 'Wild', 'Farmhouse', 'Golden', 'Smoky'],
    nouns: [
      'Coffee Beans',
      'Olive Oil',
      'Honey',
      'Green Tea',
      'Granola',
      'Dark Chocolate',
      'Pasta',
      'Hot Sauce',
    ],
    suffixes: ['500g', '1kg', '250ml', 'Family Pack', 'Single Origin', 'Sampler'],
    price: 12,
  },
  {
    name: 'Music',
    adjectives: ['Vintage', 'Studio', 'Acoustic', 'Electric', 'Concert', 'Pocket'],
    nouns: ['Guitar', 'Ukulele', 'Keyboard', 'Drum Pad', 'Microphone', 'Guitar Strings', 'Metronome', 'Amp'],
    suffixes: ['Starter', 'Pro', 'Mk II', '61 Keys', 'Travel', 'Standard'],
    price: 150,
  },
  {
    name: 'Baby',
    adjectives: ['Gentle', 'Little', 'Snuggle', 'Bright', 'Cloud', 'Tiny Steps'],
    nouns: [
      'Onesie',
      'Baby Blanket',
      'Baby Bottles',
      'Teether',
      'Stroller Fan',
      'Bath Toy',
      'Play Mat',
      'Bibs',
    ],
    suffixes: ['0-3m', '3-6m', 'Set of 3', 'Organic', 'Newborn', 'Soft'],
    price: 24,
  },
  {
    name: 'Automotive',
    adjectives: ['Road', 'Turbo', 'Highway', 'Precision', 'All-Weather', 'Garage'],
    nouns: [
      'Car Charger',
      'Seat Cover',
      'Dash Cam',
      'Tire Inflator',
      'Floor Mats',
      'Phone Mount',
      'Wiper Blades',
      'Jump Starter',
    ],
    suffixes: ['Universal', 'Pro', 'HD', 'Set', 'Compact', 'Heavy Duty'],
    price: 40,
  },
]

/** The colour names the generator gives items (`CatalogItem.colour`). */
export const CATALOG_COLOURS: readonly string[] = [
  'black',
  'white',
  'grey',
  'navy',
  'red',
  'green',
  'olive',
  'sand',
  'blue',
  'orange',
  'pink',
  'brown',
]

/** Checks options and fills defaults. */
export function resolveCatalogOptions(options: CatalogOptions): Required<CatalogOptions> {
  const categories = options.categories ?? 12
  const resolved = {
    items: options.items,
    categories,
    itemPopularityExponent: options.itemPopularityExponent ?? 1.0,
    categoryPopularityExponent: options.categoryPopularityExponent ?? 0.6,
    seed: options.seed ?? 42,
  }
  if (!Number.isInteger(categories) || categories < 1 || categories > CATEGORY_THEMES.length) {
    throw new TrainerError(
      'GENERATOR_INVALID',
      `categories must be an integer in 1..${CATEGORY_THEMES.length}, got ${categories}.`,
    )
  }
  if (!Number.isInteger(resolved.items) || resolved.items < categories) {
    throw new TrainerError(
      'GENERATOR_INVALID',
      `items must be an integer ≥ categories (${categories}), got ${resolved.items}.`,
    )
  }
  if (!Number.isInteger(resolved.seed))
    throw new TrainerError('GENERATOR_INVALID', `seed must be an integer, got ${resolved.seed}.`)
  return resolved
}

/** Zipf weights `rank^−s` for ranks 1..n, normalized to sum 1. */
export function zipfWeights(n: number, s: number): Float64Array {
  const w = new Float64Array(n)
  let sum = 0
  for (let r = 0; r < n; r++) {
    w[r] = (r + 1) ** -s
    sum += w[r]!
  }
  for (let r = 0; r < n; r++) w[r]! /= sum
  return w
}

/**
 * Builds the catalog: items are dealt to categories in proportion to category traffic (popular
 * categories are also bigger), named from the category's theme, priced around its typical price.
 *
 * @example
 * ```ts
 * const { categories, items } = generateCatalog({ items: 500, seed: 7 })
 * ```
 */
export function generateCatalog(options: CatalogOptions): Catalog {
  const o = resolveCatalogOptions(options)
  const rng = new Random(o.seed ^ 0x5eed_ca7a)
  const shares = zipfWeights(o.categories, o.categoryPopularityExponent)
  // Which themes, in which traffic order: a seeded shuffle of the theme list.
  const themes = rng.shuffle([...CATEGORY_THEMES]).slice(0, o.categories)
  // Item counts per category: at least one each, the rest by share (largest remainder).
  const counts = new Array<number>(o.categories).fill(1)
  const rest = o.items - o.categories
  const exact = Array.from(shares, (s) => s * rest)
  let given = 0
  for (let c = 0; c < o.categories; c++) {
    const whole = Math.floor(exact[c]!)
    counts[c]! += whole
    given += whole
  }
  const byRemainder = exact
    .map((x, c) => [x - Math.floor(x), c] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
  for (let j = 0; j < rest - given; j++) counts[byRemainder[j]![1]]!++

  const items: CatalogItem[] = []
  const categories: CatalogCategory[] = []
  const usedNames = new Set<string>()
  for (let c = 0; c < o.categories; c++) {
    const theme = themes[c]!
    const category: CatalogCategory = { name: theme.name, share: shares[c]!, items: [] }
    for (let r = 0; r < counts[c]!; r++) {
      const index = items.length
      let name = `${rng.pick(theme.adjectives)} ${rng.pick(theme.nouns)} ${rng.pick(theme.suffixes)}`
      if (usedNames.has(name)) name = `${name} #${index}`
      usedNames.add(name)
      // Log-normal price around the theme's typical price.
      const price = Math.max(1, Math.round(theme.price * Math.exp(0.5 * rng.normal()) * 100) / 100)
      items.push({
        id: `sku-${String(index).padStart(6, '0')}`,
        name,
        category: theme.name,
        price,
        colour: rng.pick(CATALOG_COLOURS),
        rankInCategory: r,
      })
      category.items.push(index)
    }
    categories.push(category)
  }
  return { categories, items }
}
