/**
 * The demo store: a product grid, "recommended for you" that follows the visitor's clicks through
 * the edge worker's fold-in, similar items on a product page, and a panel saying which model version
 * and source served each list. Everything goes through `@edgerec/sdk`.
 *
 * Attribution (docs/online.md): every list rendered is reported shown (`reportImpression`), and a
 * click on a listed product is sent as a `click` carrying the list's `recId`, so experiments credit
 * it to the list and the variant that served it.
 */
import { createClient, reportImpression } from '@edgerec/sdk'
import { categoryHue, isLight, monogram, type Product, parseCatalog } from './catalog.js'
import { userTokenFetch } from './user-token-fetch.js'

interface DemoConfig {
  endpoint: string
  publishableKey: string
}

interface ListedItem {
  itemId: string
  score?: number
  because?: { itemId: string; contribution: number }[]
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T

async function main(): Promise<void> {
  const [config, catalogJson] = await Promise.all([
    fetch('/config.json').then((r) => r.json() as Promise<DemoConfig>),
    fetch('/catalog.json').then((r) => r.json() as Promise<unknown>),
  ])
  const products = parseCatalog(catalogJson)
  const byId = new Map(products.map((p) => [p.id, p]))
  const categories = [...new Set(products.map((p) => p.category))].sort()
  let activeCategory: string | undefined
  let current: Product | undefined
  let sent = 0

  const client = createClient({
    endpoint: config.endpoint,
    publishableKey: config.publishableKey,
    flushAt: 1,
    flushIntervalMs: 500,
    // Explanations need a user token (docs/privacy.md); the demo's stand-in backend mints them.
    fetch: userTokenFetch(async (id) => {
      const response = await fetch(`/user-token?id=${encodeURIComponent(id)}`)
      return ((await response.json()) as { token: string }).token
    }),
    // The demo shows fold-in live: every refresh must reach the worker.
    cacheTtlMs: 0,
    onError: (error: unknown) => {
      $('delivery').textContent =
        `delivery problem: ${error instanceof Error ? error.message : String(error)}`
    },
  })

  const provenance = new Map<string, string>()
  const showProvenance = (list: string, source: string, version: string | null, ms: number) => {
    provenance.set(list, `${source} · ${version ?? 'no model'} · ${ms.toFixed(0)} ms`)
    $('provenance').replaceChildren(
      ...[...provenance].flatMap(([k, v]) => {
        const dt = document.createElement('dt')
        dt.textContent = k
        const dd = document.createElement('dd')
        dd.textContent = v
        return [dt, dd]
      }),
    )
  }

  /**
   * Reports a rendered list shown once it stayed on screen for a second (also past the worker's
   * write of the list, which happens just after its answer: an earlier report would find nothing).
   */
  let shownReports = 0
  const reportShown = (list: { recId?: string }) => {
    setTimeout(async () => {
      // Counts the reports the worker accepted, for tests (and curious people).
      if (await reportImpression(config, list))
        document.body.dataset.impressionsReported = String(++shownReports)
    }, 1000)
  }

  /** A product card; `recId` is the list it belongs to (a click on it is credited to that list). */
  const card = (item: ListedItem | Product, small: boolean, recId?: string): HTMLLIElement => {
    const id = 'itemId' in item ? item.itemId : item.id
    const p = byId.get(id)
    const li = document.createElement('li')
    li.className = 'card'
    li.dataset.itemId = id
    li.dataset.category = p?.category ?? ''
    li.tabIndex = 0
    if (recId) li.dataset.recId = recId
    const swatch = document.createElement('div')
    swatch.className = 'swatch'
    swatch.style.background = p?.color ?? '#999'
    swatch.textContent = monogram(p?.name ?? id)
    if (isLight(p?.color ?? '#999')) swatch.classList.add('light')
    const name = document.createElement('div')
    name.className = 'name'
    name.textContent = p?.name ?? id
    const meta = document.createElement('div')
    meta.className = 'meta'
    const chip = document.createElement('span')
    chip.className = 'chip'
    chip.textContent = p?.category ?? '?'
    chip.style.setProperty('--h', String(categoryHue(p?.category ?? '')))
    meta.append(chip)
    if (!small && p) meta.append(` $${p.price.toFixed(2)}`)
    li.append(swatch, name, meta)
    const because = 'because' in item ? explanation(item) : []
    if (because.length > 0) {
      const why = document.createElement('div')
      why.className = 'why'
      why.textContent = `because you viewed ${because
        .map((b) => byId.get(b.itemId)?.name ?? b.itemId)
        .slice(0, 2)
        .join(', ')}`
      li.append(why)
    }
    const open = () => void openProduct(id, recId)
    li.addEventListener('click', open)
    li.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') open()
    })
    return li
  }

  /**
   * The viewed items that really explain `item`: a positive share of at least a fifth of its score.
   * The worker lists the top three contributions of every item, including items that rank for other
   * reasons (a small or negative pull from the history), and "because you viewed" under those would
   * explain nothing.
   */
  function explanation(item: ListedItem): { itemId: string; contribution: number }[] {
    const score = item.score ?? 0
    if (!(score > 0)) return []
    return (item.because ?? []).filter((b) => b.contribution > 0 && b.contribution >= 0.2 * score)
  }

  /** True when the worker could not be reached at all (not an answer with an error). */
  const unreachable = (error: unknown) =>
    ['NETWORK_ERROR', 'TIMEOUT'].includes((error as { code?: string } | null)?.code ?? '')

  const showOffline = (offline: boolean) => {
    document.body.dataset.offline = String(offline)
    $('offline-note').hidden = !offline
  }

  // "All" deals the categories' best sellers round-robin, so the first screen shows every category.
  const interleaved = (() => {
    const queues = categories.map((c) => products.filter((p) => p.category === c))
    const out: Product[] = []
    for (let i = 0; out.length < products.length; i++) {
      for (const q of queues) if (i < q.length) out.push(q[i]!)
    }
    return out
  })()

  const renderGrid = () => {
    const list = activeCategory ? products.filter((p) => p.category === activeCategory) : interleaved
    $('grid').replaceChildren(...list.slice(0, 60).map((p) => card(p, false)))
  }

  const renderChips = () => {
    const all = [undefined, ...categories]
    $('chips').replaceChildren(
      ...all.map((c) => {
        const b = document.createElement('button')
        b.type = 'button'
        b.className = `chip${c === activeCategory ? ' active' : ''}`
        b.textContent = c ?? 'All'
        if (c) b.style.setProperty('--h', String(categoryHue(c)))
        b.addEventListener('click', () => {
          activeCategory = c
          renderChips()
          renderGrid()
        })
        return b
      }),
    )
  }

  // Counts finished refreshes, so tests (and curious people) can tell when the list is current.
  let refreshes = 0
  const refreshRecommendations = async () => {
    const t0 = performance.now()
    try {
      const recs = await client.recommend({ k: 8, explain: true })
      $('recs').replaceChildren(...recs.items.map((i: ListedItem) => card(i, true, recs.recId)))
      $('recs').dataset.recId = recs.recId ?? ''
      reportShown(recs)
      $('recs-badge').textContent = recs.source
      $('recs').dataset.source = recs.source
      $('recs').dataset.modelVersion = recs.modelVersion ?? ''
      showProvenance('Recommended for you', recs.source, recs.modelVersion, performance.now() - t0)
      showOffline(false)
    } catch (error) {
      const offline = unreachable(error)
      showOffline(offline)
      $('recs-badge').textContent = offline ? 'offline' : 'unavailable'
      $('recs').dataset.source = offline ? 'offline' : 'error'
      if (offline) $('recs').replaceChildren()
      $('delivery').textContent =
        `recommendations failed: ${error instanceof Error ? error.message : String(error)}`
    } finally {
      refreshes++
      document.body.dataset.refreshes = String(refreshes)
    }
  }

  const track = async (type: string, itemId: string) => {
    client.track(type, { itemId })
    sent++
    const result = await client.flush()
    $('delivery').textContent = result.ok
      ? `${sent} events sent (${type} ${itemId})`
      : `${result.remaining} events waiting for delivery`
    document.body.dataset.eventsSent = String(sent)
    await refreshRecommendations()
  }

  const openProduct = async (id: string, recId?: string) => {
    const p = byId.get(id)
    if (!p) return
    // A click on a recommended or similar product: credited to the list that showed it.
    if (recId) client.track('click', { itemId: id, context: { recId } })
    current = p
    $('product').hidden = false
    $('product-swatch').style.background = p.color
    $('product-swatch').textContent = monogram(p.name)
    $('product-swatch').classList.toggle('light', isLight(p.color))
    $('product').dataset.itemId = p.id
    $('product-name').textContent = p.name
    $('product-category').textContent = p.category
    $('product-price').textContent = `$${p.price.toFixed(2)}`
    // A product low on the page opens the panel at the top of the list: bring it into view.
    $('product').scrollIntoView({ block: 'start' })
    const t0 = performance.now()
    const similarPromise = client
      .similar(id, { k: 6 })
      .then((s: { items: ListedItem[]; source: string; modelVersion: string | null; recId?: string }) => {
        $('similar').replaceChildren(...s.items.map((i) => card(i, true, s.recId)))
        reportShown(s)
        $('similar-badge').textContent = s.source
        showProvenance('Similar items', s.source, s.modelVersion, performance.now() - t0)
      })
      .catch((error: unknown) => {
        $('similar').replaceChildren()
        const code = (error as { code?: string } | null)?.code
        $('similar-badge').textContent = unreachable(error)
          ? 'offline'
          : code === 'ITEM_NOT_FOUND'
            ? 'not in model yet'
            : 'unavailable'
      })
    await Promise.all([similarPromise, track('view', id)])
  }

  const renderWho = () => {
    const userId = client.userId
    $('who-label').textContent = userId
      ? `signed in as ${userId}`
      : `anonymous ${(client.anonymousId ?? '').slice(0, 8)}…`
    // One of the two, never both.
    $('sign-in').hidden = Boolean(userId)
    $('sign-out').hidden = !userId
  }

  $('close-product').addEventListener('click', () => {
    $('product').hidden = true
  })
  $('add-to-cart').addEventListener('click', () => current && void track('add_to_cart', current.id))
  $('buy').addEventListener('click', () => current && void track('purchase', current.id))
  $('like').addEventListener('click', () => current && void track('like', current.id))
  $('sign-in').addEventListener('submit', (e) => {
    e.preventDefault()
    const value = $<HTMLInputElement>('user-input').value.trim()
    if (!value) return
    // identify() links this visitor's clicks to the account on the worker; recommend() waits for it.
    void client.identify(value)
    renderWho()
    void refreshRecommendations()
  })
  $('sign-out').addEventListener('click', () => {
    client.reset()
    renderWho()
    void refreshRecommendations()
  })

  await client.ready
  renderWho()
  renderChips()
  renderGrid()
  await refreshRecommendations()
  document.body.dataset.ready = 'true'
}

void main()
