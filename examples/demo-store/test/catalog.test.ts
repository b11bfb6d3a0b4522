import { CATALOG_COLOURS } from '@edgerec/trainer'
import { describe, expect, it } from 'vitest'
import { colourCss, isLight, monogram, parseCatalog } from '../src/catalog.js'

describe('parseCatalog', () => {
  it('should read the generator catalog and turn colour names into CSS colours', () => {
    const products = parseCatalog({
      categories: [{ name: 'Outdoor', share: 1 }],
      items: [
        { id: 'sku-000000', name: 'Trail Tent 2P', category: 'Outdoor', price: 79.5, colour: 'sand' },
        { itemId: 'sku-000001', category: 'Outdoor', color: '#123456' },
        { name: 'no id' },
      ],
    })
    expect(products).toEqual([
      { id: 'sku-000000', name: 'Trail Tent 2P', category: 'Outdoor', price: 79.5, color: '#d9c7a3' },
      { id: 'sku-000001', name: 'sku-000001', category: 'Outdoor', price: 0, color: '#123456' },
    ])
  })

  it('should accept a bare array and reject anything else as empty', () => {
    expect(parseCatalog([{ id: 'a' }]).map((p) => p.id)).toEqual(['a'])
    expect(parseCatalog({ items: 'nope' })).toEqual([])
    expect(parseCatalog(null)).toEqual([])
  })
})

describe('swatch helpers', () => {
  it('should map every generator colour name to a hex colour', () => {
    expect(CATALOG_COLOURS.length).toBeGreaterThan(0)
    for (const name of CATALOG_COLOURS) {
      expect(colourCss(name)).toMatch(/^#[0-9a-f]{6}$/)
    }
    expect(colourCss('#abcdef')).toBe('#abcdef')
  })

  it('should build a monogram from the first two words', () => {
    expect(monogram('Cozy Grooming Brush Large')).toBe('CG')
    expect(monogram('The Silent Island (Hardcover)')).toBe('TS')
    expect(monogram('Kettle')).toBe('K')
  })

  it('should tell light colours from dark ones', () => {
    expect(isLight(colourCss('white'))).toBe(true)
    expect(isLight(colourCss('sand'))).toBe(true)
    expect(isLight(colourCss('navy'))).toBe(false)
    expect(isLight('not a colour')).toBe(false)
  })
})
