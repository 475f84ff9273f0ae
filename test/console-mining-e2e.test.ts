/**
 * End-to-end tests of the console's mining pages in a real browser (Debian's Chromium driven by
 * playwright-core) against `opencts serve` on 127.0.0.1, on every engine of `STORES`: the dashboard
 * (the landing page) shows the numbers the API counts, the export downloads the export API's bytes
 * in every format of the registry, and the resource history page, reached from a trace of the
 * list, shows the summary and events of `GET /v3/{project_id}/resources/history`. Expected values
 * are read from the API (ListTraces walked page by page, the history API), never written here.
 * Skipped, saying why, only when Chromium is not installed.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { TRACE_FORMAT_NAMES } from '../src/formats/registry.js'
import { chromiumMissing, launchChromium } from './helpers/browser.js'
import { createTestDatabase, testEngines, type TestDatabase } from './helpers/postgres.js'
import { repoRoot } from './helpers/repo-root.js'
import {
  adminProject,
  killAllServers,
  serve,
  signedFetch,
  type ServerProcess,
} from './helpers/server-process.js'

const PASSWORD = 'console-mining-password'
const REPO_ROOT = repoRoot()
const CONSOLE_INDEX = join(REPO_ROOT, 'dist', 'console', 'index.html')
const SHOTS = resolve(
  REPO_ROOT,
  process.env.OPENCTS_SCREENSHOTS_DIR ?? join('artifacts', 'screenshots'),
)
const HOUR = 3_600_000
const DAY = 24 * HOUR
const missing = chromiumMissing()

function user(name: string): Record<string, unknown> {
  return { id: `id-${name}`, name, domain: { id: 'd1', name: 'acme' } }
}

function trace(time: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    time,
    service_type: 'IMS',
    resource_type: 'image',
    trace_name: 'createImage',
    trace_type: 'ApiCall',
    code: 201,
    request: '{"name":"ubuntu","visibility":"private"}',
    response: '{"id":"img"}',
    user: user('alice'),
    source_ip: '192.0.2.10',
    ...overrides,
  }
}

/** The seeded traces, relative to `now`: a resource's life, other services, denied calls. */
function seedTraces(now: number): Record<string, unknown>[] {
  const img7 = { resource_id: 'img-7', resource_name: 'web-7' }
  const traces: Record<string, unknown>[] = [
    trace(now - 50 * 60_000, {
      ...img7,
      source_ip: '192.0.2.1',
      request: '{"name":"web-7","disk_format":"qcow2"}',
    }),
    trace(now - 49 * 60_000, { ...img7, trace_name: 'updateImage', code: 200, user: user('bob') }),
    trace(now - 48 * 60_000, { ...img7, trace_name: 'addMember', code: 200, user: user('bob') }),
    trace(now - 47 * 60_000, {
      ...img7,
      service_type: 'ECS',
      resource_type: 'server',
      trace_name: 'reinstallServer',
      code: 202,
      user: user('carol'),
    }),
    trace(now - 3 * 60_000, {
      ...img7,
      trace_name: 'deleteImage',
      code: 403,
      user: user('carol'),
      response: '{"error_code":"IMS.0001","error_msg":"denied","detail":{"policy":"none"}}',
    }),
    trace(now - 2 * 60_000, {
      ...img7,
      trace_name: 'deleteImage',
      code: 204,
      user: user('alice'),
      source_ip: '192.0.2.9',
    }),
  ]
  // Reads: enough that the history has a second page (50 a page) and GetImage leads the top.
  for (let i = 0; i < 52; i += 1)
    traces.push(
      trace(now - 45 * 60_000 + i * 30_000, {
        ...img7,
        trace_name: 'GetImage',
        code: 200,
        user: user('carol'),
        request: null,
        response: null,
      }),
    )
  for (let i = 0; i < 4; i += 1)
    traces.push(
      trace(now - 20 * 60_000 + i * 1000, {
        service_type: 'ECS',
        resource_type: 'server',
        trace_name: i < 2 ? 'deleteServer' : 'createServer',
        resource_id: `srv-${i}`,
        resource_name: `web-${i}`,
        code: i === 0 ? 500 : 201,
        ...(i === 0 ? { trace_rating: 'incident' } : {}),
        user: user('dave'),
      }),
    )
  for (let i = 0; i < 3; i += 1)
    traces.push(
      trace(now - 10 * 60_000 + i * 1000, {
        service_type: 'VPC',
        resource_type: 'eip',
        trace_name: 'updateEip',
        resource_id: 'eip-1',
        resource_name: '192.0.2.200',
        code: 401,
        user: user('mallory'),
        source_ip: '198.51.100.7',
      }),
    )
  traces.push(
    trace(now - 3 * HOUR, {
      service_type: 'ECS',
      resource_type: 'server',
      trace_name: 'createServer',
      resource_id: 'srv-old',
    }),
    trace(now - 2 * DAY, {
      service_type: 'EVS',
      resource_type: 'volume',
      trace_name: 'deleteVolume',
      resource_id: 'vol-1',
      code: 403,
      user: user('mallory'),
    }),
  )
  return traces
}

for (const engine of testEngines())
  describe(
    `console mining pages in Chromium (${engine} store)`,
    { skip: missing ?? false, timeout: 300_000 },
    () => {
      let database: TestDatabase | undefined
      let server: ServerProcess
      let browser: Browser
      let page: Page
      let project: string
      let base: string

      /** Every trace ListTraces answers for `params`, walked page by page (bounded). */
      async function apiTraces(params: Record<string, string>): Promise<any[]> {
        const traces: any[] = []
        let next: string | null = null
        for (let i = 0; i < 50; i += 1) {
          const query = new URLSearchParams({ ...params, limit: '200', ...(next ? { next } : {}) })
          const res = await signedFetch(`${base}/v3/${project}/traces?${query.toString()}`)
          assert.equal(res.status, 200, await res.clone().text())
          const body = (await res.json()) as any
          traces.push(...body.traces)
          next = body.meta_data.marker
          if (next === null) return traces
        }
        throw new Error('too many pages')
      }

      async function apiJson(path: string): Promise<any> {
        const res = await signedFetch(`${base}/v3/${project}${path}`)
        assert.equal(res.status, 200, await res.clone().text())
        return res.json()
      }

      /** The from/to of the next activity request of the dashboard's chart (no service filter). */
      function nextWindow(): Promise<{ from: string; to: string }> {
        return page
          .waitForRequest(
            (r) => /\/traces\/activity\?/.test(r.url()) && !/service_type=/.test(r.url()),
          )
          .then((r) => {
            const q = new URL(r.url()).searchParams
            return { from: q.get('from') ?? '', to: q.get('to') ?? '' }
          })
      }

      before(async () => {
        if (missing !== null) return
        assert.ok(existsSync(CONSOLE_INDEX), `${CONSOLE_INDEX} missing: run npm run build first`)
        const dataDir = mkdtempSync(join(tmpdir(), 'opencts-console-mining-'))
        if (engine === 'postgres') database = await createTestDatabase('console_mining')
        server = await serve(dataDir, {
          OPENCTS_ADMIN_PASSWORD: PASSWORD,
          ...(database === undefined ? {} : { OPENCTS_STORE: database.url }),
        })
        base = server.url.replace('localhost', '127.0.0.1')
        project = adminProject(dataDir)
        const res = await signedFetch(`${base}/v3/${project}/traces`, {
          method: 'POST',
          body: JSON.stringify({ traces: seedTraces(Date.now()) }),
        })
        assert.equal(res.status, 201, await res.clone().text())
        browser = await launchChromium()
        const context = await browser.newContext({
          viewport: { width: 1280, height: 900 },
          acceptDownloads: true,
        })
        page = await context.newPage()
        page.setDefaultTimeout(20_000)
      })

      after(async () => {
        await browser?.close()
        killAllServers()
        await database?.drop()
      })

      it('lands on the dashboard after sign-in, with the activity and services the API counts', async () => {
        await page.goto(`${base}/console/`)
        await page.waitForURL(/\/console\/sign-in$/)
        await page.fill('input[name=account]', 'opencts')
        await page.fill('input[name=user]', 'admin')
        await page.fill('input[name=password]', PASSWORD)
        await page.fill('input[name=project]', 'local-1')
        const range = nextWindow()
        await page.getByRole('button', { name: 'Sign in' }).click()
        await page.waitForURL(/\/console\/dashboard$/)
        await checkDashboard(await range, 'last hour')
        mkdirSync(SHOTS, { recursive: true })
        await page.screenshot({ path: join(SHOTS, 'dashboard.png'), fullPage: true })
      })

      it('sums up the last 24 hours and 7 days when chosen, older traces included', async () => {
        let range = nextWindow()
        await page.check('input[name=window][value="24h"]')
        const day = await checkDashboard(await range, '24 hours')
        assert.ok(
          day.some((t) => t.resource_id === 'srv-old'),
          'the 3-hour-old trace is in the last 24 hours',
        )
        range = nextWindow()
        await page.check('input[name=window][value="7d"]')
        const week = await checkDashboard(await range, '7 days')
        assert.ok(
          week.some((t) => t.resource_id === 'vol-1'),
          'the 2-day-old trace is in the last 7 days',
        )
        range = nextWindow()
        await page.check('input[name=window][value="1h"]')
        await checkDashboard(await range, 'last hour again')
      })

      /** Checks every number of the dashboard against the API's traces of the window. */
      async function checkDashboard(
        range: { from: string; to: string },
        label: string,
      ): Promise<any[]> {
        const span = Number(range.to) - Number(range.from)
        assert.ok(span > 0 && span <= 7 * DAY + 1, `${label}: window ${span} ms`)
        const traces = await apiTraces({ from: range.from, to: range.to })
        assert.ok(traces.length > 0, `${label}: the API finds traces`)
        // Chart: the total and the warning or incident count.
        const bad = traces.filter((t) => t.trace_rating !== 'normal').length
        const summary = page.getByTestId('chart-summary')
        await summary.filter({ hasText: new RegExp(`^${traces.length} traces, `) }).waitFor()
        assert.match(await summary.innerText(), new RegExp(`\\b${bad} warning or incident`), label)
        // Top operations: the first is the API's most frequent (service, trace name).
        const ops = new Map<string, number>()
        for (const t of traces) {
          const key = `${t.service_type} ${t.trace_name}`
          ops.set(key, (ops.get(key) ?? 0) + 1)
        }
        const [leader, leaderCount] = [...ops].sort((a, b) => b[1] - a[1])[0] ?? ['', 0]
        const first = page.getByTestId('top-operations').locator('li').first()
        assert.equal(await first.locator('.op-name').innerText(), leader, label)
        assert.match(await first.locator('.op-count').innerText(), new RegExp(`^${leaderCount}\\b`))
        // By service and rating: one row per service, the API's counts.
        const expected = new Map<string, number[]>()
        for (const t of traces) {
          const row = expected.get(t.service_type) ?? [0, 0, 0, 0]
          row[0] = (row[0] ?? 0) + 1
          const column = { normal: 1, warning: 2, incident: 3 }[t.trace_rating as string] ?? 1
          row[column] = (row[column] ?? 0) + 1
          expected.set(t.service_type, row)
        }
        const panel = page.getByTestId('services-panel')
        const firstService = [...expected].sort((a, b) => (b[1][0] ?? 0) - (a[1][0] ?? 0))[0]
        await panel
          .locator(`tr[data-service="${firstService?.[0]}"]`)
          .filter({ hasText: String(firstService?.[1][0]) })
          .waitFor()
        const shown = await panel
          .locator('tr[data-service]')
          .evaluateAll((rows) =>
            rows.map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent ?? '')),
          )
        assert.deepEqual(
          Object.fromEntries(shown.map(([service, ...counts]) => [service, counts.map(Number)])),
          Object.fromEntries(expected),
          label,
        )
        // Top operators: the API's users, most traces first, with their distinct operations.
        const users = new Map<string, { count: number; names: Set<string> }>()
        for (const t of traces) {
          const name = (t.user?.name as string | undefined) ?? '(no user)'
          const u = users.get(name) ?? { count: 0, names: new Set<string>() }
          u.count += 1
          u.names.add(t.trace_name)
          users.set(name, u)
        }
        assert.ok(users.size <= 10, 'every operator fits the top 10')
        const [topUser, top] = [...users].sort((a, b) => b[1].count - a[1].count)[0] ?? []
        const operators = page.getByTestId('operators-panel')
        await operators
          .locator(`tr[data-operator="${topUser}"]`)
          .filter({ hasText: String(top?.count) })
          .waitFor()
        assert.deepEqual(
          await rowsOf(operators.locator('tr[data-operator]')),
          Object.fromEntries([...users].map(([name, u]) => [name, [u.count, u.names.size]])),
          `${label}: top operators`,
        )
        // Denied calls: 401 and 403, in all and per operator.
        const denied = traces.filter((t) => t.code === '401' || t.code === '403')
        const n401 = denied.filter((t) => t.code === '401').length
        const n403 = denied.length - n401
        await page
          .getByTestId('denied-totals')
          .filter({
            hasText: `${denied.length} denied: ${n401} × 401 not authenticated, ${n403} × 403 not allowed`,
          })
          .waitFor()
        const deniedBy: Record<string, number[]> = {}
        for (const t of denied) {
          const row = (deniedBy[t.user?.name ?? '(no user)'] ??= [0, 0])
          row[t.code === '401' ? 0 : 1] = (row[t.code === '401' ? 0 : 1] ?? 0) + 1
        }
        assert.deepEqual(
          await rowsOf(page.getByTestId('denied-panel').locator('tr[data-operator]')),
          deniedBy,
          `${label}: denied calls per operator`,
        )
        return traces
      }

      /** Table rows as { first cell: the other cells as numbers }. */
      async function rowsOf(rows: ReturnType<Page['locator']>): Promise<Record<string, number[]>> {
        const cells = await rows.evaluateAll((all) =>
          all.map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent ?? '')),
        )
        return Object.fromEntries(cells.map(([first, ...rest]) => [first, rest.map(Number)]))
      }

      it('shows the recent insights and the alarm rules as their APIs answer', async () => {
        for (const name of ['zz-denied', 'aa-deletes']) {
          const res = await signedFetch(`${base}/v3/${project}/alarms`, {
            method: 'POST',
            body: JSON.stringify({
              alarm_name: name,
              filter: { q: name === 'aa-deletes' ? 'trace_name:delete*' : 'code:(401 OR 403)' },
              condition: { comparison: '>', threshold: 3, period: 300 },
            }),
          })
          assert.equal(res.status, 201, await res.clone().text())
        }
        // The seeded deletes are first-time high-risk operations: wait for the detectors (bounded).
        let found: any[] = []
        for (let i = 0; i < 60 && found.length === 0; i += 1) {
          found = (await apiJson('/insights?limit=5')).insights
          if (found.length === 0) await new Promise((r) => setTimeout(r, 500))
        }
        assert.ok(found.length > 0, 'the detectors found the first-time deletes')
        const asked = page.waitForRequest((r) => /\/insights\?/.test(r.url()))
        await page.check('input[name=window][value="7d"]')
        const q = new URL((await asked).url()).searchParams
        const want = (
          await apiJson(`/insights?from=${q.get('from')}&to=${q.get('to')}&limit=5`)
        ).insights.map((i: { id: string }) => i.id)
        const panel = page.getByTestId('watch-panel')
        await panel.locator('[data-insight]').first().waitFor()
        assert.deepEqual(
          await panel
            .locator('[data-insight]')
            .evaluateAll((els) => els.map((e) => e.getAttribute('data-insight'))),
          want,
        )
        const rules = (await apiJson('/alarms')).alarms as {
          alarm_id: string
          alarm_name: string
          state: string
        }[]
        const order: Record<string, number> = { alarm: 0, insufficient_data: 1, ok: 2 }
        const shown = [...rules]
          .sort(
            (a, b) =>
              (order[a.state] ?? 3) - (order[b.state] ?? 3) ||
              (a.alarm_name < b.alarm_name ? -1 : 1),
          )
          .slice(0, 5)
        assert.deepEqual(
          await panel
            .locator('[data-alarm]')
            .evaluateAll((els) => els.map((e) => e.getAttribute('data-alarm'))),
          shown.map((a) => a.alarm_id),
        )
        const firing = rules.filter((a) => a.state === 'alarm').length
        assert.match(
          (await panel.textContent()) ?? '',
          new RegExp(`Alarms: ${firing} in alarm of ${rules.length}`),
        )
      })

      it('exports the list in every format of the registry, byte for byte what the API sends', async () => {
        await page.getByRole('link', { name: 'Trace list', exact: true }).click()
        await page.getByTestId('trace-count').filter({ hasNotText: 'Loading' }).waitFor()
        const offered = await page.$$eval('select[name=exportFormat] option', (options) =>
          options.map((o) => o.getAttribute('value') ?? ''),
        )
        assert.deepEqual([...offered].sort(), [...TRACE_FORMAT_NAMES].sort())
        await page.selectOption('select[name=serviceType]', 'IMS')
        const listed = page.waitForResponse((r) => /\/traces\?/.test(r.url()))
        await page.getByRole('button', { name: 'Query', exact: true }).click()
        await listed
        for (const format of TRACE_FORMAT_NAMES) {
          await page.selectOption('select[name=exportFormat]', format)
          const request = page.waitForRequest((r) => /\/traces\/export\?/.test(r.url()))
          const download = page.waitForEvent('download')
          await page.getByRole('button', { name: 'Export', exact: true }).click()
          const url = new URL((await request).url())
          assert.equal(url.searchParams.get('format'), format)
          assert.equal(url.searchParams.get('service_type'), 'IMS', 'the list query is exported')
          const file = await (await download).path()
          const api = await signedFetch(`${base}${url.pathname}${url.search}`)
          assert.equal(api.status, 200, format)
          const bytes = Buffer.from(await api.arrayBuffer())
          assert.ok(bytes.includes('web-7'), `${format}: the export holds the seeded traces`)
          assert.ok(readFileSync(file).equals(bytes), `${format}: downloaded bytes = API bytes`)
          const apiName = /filename="traces-[^.]+\.(.+)"/.exec(
            api.headers.get('content-disposition') ?? '',
          )?.[1]
          assert.ok(apiName !== undefined)
          assert.ok((await download).suggestedFilename().endsWith(`.${apiName}`), format)
        }
      })

      it('searches with the q= language like the API, and shows a refused search under the bar', async () => {
        await page.getByRole('button', { name: 'Reset', exact: true }).click()
        const search = async (q: string): Promise<URL> => {
          await page.fill('input[name=q]', q)
          const listed = page.waitForResponse(
            (r) => /\/traces\?/.test(r.url()) && new URL(r.url()).searchParams.get('q') === q,
          )
          await page.getByRole('button', { name: 'Query', exact: true }).click()
          const url = new URL((await listed).url())
          await page.getByTestId('trace-count').filter({ hasNotText: 'Loading' }).waitFor()
          return url
        }
        const shown = (): Promise<string[]> =>
          page.$$eval('tr[data-trace-id]', (rows) =>
            rows.map((r) => r.getAttribute('data-trace-id') ?? ''),
          )
        for (const q of [
          'service_type:(IMS OR VPC) AND code:>=400',
          '"WEB-7" AND NOT trace_name:GetImage',
          'user:mal* OR trace_name:deleteServer',
        ]) {
          const url = await search(q)
          const expected = await apiTraces({
            from: url.searchParams.get('from') ?? '',
            to: url.searchParams.get('to') ?? '',
            q,
          })
          assert.ok(expected.length > 0 && expected.length < 50, `${q}: ${expected.length}`)
          assert.deepEqual(
            await shown(),
            expected.map((t) => t.trace_id),
            q,
          )
          if (q.startsWith('service_type'))
            for (const t of expected) {
              assert.ok(['IMS', 'VPC'].includes(t.service_type), t.trace_id)
              assert.ok(Number(t.code) >= 400, t.trace_id)
            }
        }
        // The export takes the search too.
        const request = page.waitForRequest((r) => /\/traces\/export\?/.test(r.url()))
        await page.getByRole('button', { name: 'Export', exact: true }).click()
        assert.equal(
          new URL((await request).url()).searchParams.get('q'),
          'user:mal* OR trace_name:deleteServer',
        )
        // A mistake: the server's 400, word for word, under the search bar.
        const bad = 'service_type:(IMS OR'
        await page.fill('input[name=q]', bad)
        await page.getByRole('button', { name: 'Query', exact: true }).click()
        const error = page.getByTestId('search-error')
        await error.waitFor()
        const refused = await signedFetch(
          `${base}/v3/${project}/traces?${new URLSearchParams({ q: bad }).toString()}`,
        )
        assert.equal(refused.status, 400)
        const body = (await refused.json()) as any
        assert.equal(await error.innerText(), `${body.error_msg} (${body.error_code}, HTTP 400)`)
        assert.equal(await page.getAttribute('input[name=q]', 'aria-invalid'), 'true')
        assert.equal(await page.getByTestId('error').count(), 0, 'said once, under the bar')
        await search('trace_name:updateEip')
        assert.equal(await error.count(), 0, 'a good search clears the error')
      })

      it('opens the history of a resource from the trace list, as the API sums it up', async () => {
        await page.getByRole('button', { name: 'Reset', exact: true }).click()
        await page.selectOption('select[name=searchBy]', 'resource_id')
        await page.fill('input[name=search]', 'img-7')
        const listed = page.waitForResponse((r) => /resource_id=img-7/.test(r.url()))
        await page.getByRole('button', { name: 'Query', exact: true }).click()
        await listed
        const loaded = page.waitForResponse((r) => /\/resources\/history\?/.test(r.url()))
        await page
          .locator('tr[data-trace-id]')
          .first()
          .getByRole('link', { name: 'img-7', exact: true })
          .click()
        await page.waitForURL(/\/console\/resources\?resource_id=img-7$/)
        await loaded
        const api = await apiJson('/resources/history?resource_id=img-7&limit=50')
        const s = api.summary
        assert.ok(s.total > 50, 'the seeded life has a second page')
        await page
          .getByTestId('summary-total')
          .filter({ hasText: String(s.total) })
          .waitFor()
        assert.equal(await page.getByTestId('summary-total').innerText(), String(s.total))
        for (const key of ['created', 'last_changed', 'deleted']) {
          const text = await page.getByTestId(`summary-${key}`).innerText()
          assert.ok(s[key] !== null, `${key} in the API`)
          assert.match(text, new RegExp(` · ${s[key].trace_name} by ${s[key].user}`), key)
          if (s[key].source_ip !== undefined) assert.match(text, new RegExp(s[key].source_ip), key)
        }
        const counts = await page
          .getByTestId('summary-counts')
          .locator('tbody td')
          .evaluateAll((cells) => cells.map((c) => Number(c.textContent)))
        const kinds = ['create', 'update', 'share', 'delete', 'read', 'other', 'failed']
        assert.deepEqual(
          counts,
          kinds.map((k) => s.counts[k]),
        )
        const operators = await page
          .getByTestId('summary-operators')
          .locator('tbody tr')
          .evaluateAll((rows) =>
            rows.map((r) => [...r.querySelectorAll('td')].slice(0, 3).map((c) => c.textContent)),
          )
        assert.deepEqual(
          operators,
          s.operators.map((o: any) => [o.user, String(o.count), o.kinds.join(', ')]),
        )
        const shownEvents = (): Promise<string[]> =>
          page.$$eval('tr[data-event-id]', (rows) =>
            rows.map((r) => r.getAttribute('data-event-id') ?? ''),
          )
        assert.deepEqual(
          await shownEvents(),
          api.events.map((e: any) => e.trace_id),
        )
        const second = await apiJson(
          `/resources/history?resource_id=img-7&limit=50&next=${api.meta_data.marker}`,
        )
        await page.getByRole('button', { name: 'Load more' }).click()
        await page.locator('tr[data-event-id]').nth(50).waitFor()
        assert.deepEqual(await shownEvents(), [
          ...api.events.map((e: any) => e.trace_id),
          ...second.events.map((e: any) => e.trace_id),
        ])
        assert.equal(await page.getByRole('button', { name: 'Load more' }).count(), 0)
        // The denied delete: its response, pretty-printed, is the API's.
        const denied = api.events.find((e: any) => e.code === '403')
        const row = page.locator(`tr[data-event-id="${denied.trace_id}"]`)
        await row.getByRole('button', { name: /deleteImage/ }).click()
        const response = await page.getByTestId('event-response').innerText()
        assert.deepEqual(JSON.parse(response), JSON.parse(denied.response))
        assert.match(response, /\n {2}"error_code": "IMS.0001"/, 'pretty-printed')
        await page.screenshot({ path: join(SHOTS, 'resource-history.png'), fullPage: false })
      })

      it('looks a resource up by name, from the trace view and from the form', async () => {
        await page.getByRole('link', { name: 'Trace list', exact: true }).click()
        await page.selectOption('select[name=searchBy]', 'resource_name')
        await page.fill('input[name=search]', '192.0.2.200')
        const listed = page.waitForResponse((r) => /resource_name=192/.test(r.url()))
        await page.getByRole('button', { name: 'Query', exact: true }).click()
        await listed
        await page
          .locator('tr[data-trace-id]')
          .first()
          .getByRole('link', { name: '192.0.2.200', exact: true })
          .waitFor()
        await page.getByRole('button', { name: 'View trace' }).first().click()
        const dialog = page.getByRole('dialog', { name: 'Trace JSON' })
        await dialog.waitFor({ state: 'visible' })
        await dialog.getByRole('link', { name: 'eip-1' }).click()
        await page.waitForURL(/\/console\/resources\?resource_id=eip-1$/)
        const byId = await apiJson('/resources/history?resource_id=eip-1')
        await page
          .getByTestId('summary-total')
          .filter({ hasText: String(byId.summary.total) })
          .waitFor()
        await page.getByTestId('history-count').waitFor()
        assert.equal(await page.locator('tr[data-event-id]').count(), byId.events.length)
        // The form: by name, then a resource no trace names.
        await page.selectOption('select[name=historyBy]', 'resource_name')
        await page.fill('input[name=historyValue]', '192.0.2.200')
        await page.getByRole('button', { name: 'Show history' }).click()
        await page.waitForURL(/\/console\/resources\?resource_name=192\.0\.2\.200$/)
        const byName = await apiJson('/resources/history?resource_name=192.0.2.200')
        await page.getByTestId('history-count').filter({ hasNotText: 'Loading' }).waitFor()
        assert.deepEqual(
          await page.$$eval('tr[data-event-id]', (rows) =>
            rows.map((r) => r.getAttribute('data-event-id')),
          ),
          byName.events.map((e: any) => e.trace_id),
        )
        await page.fill('input[name=historyValue]', 'no-such-resource')
        await page.getByRole('button', { name: 'Show history' }).click()
        await page.getByText('No trace names this resource').waitFor()
        await page.goBack()
        await page.waitForURL(/resource_name=192\.0\.2\.200$/)
        await page.locator('tr[data-event-id]').first().waitFor()
      })

      it('reflows to a phone width and is driven from the keyboard', async () => {
        await page.setViewportSize({ width: 390, height: 844 })
        try {
          const overflow = (): Promise<number> =>
            page.evaluate<number>(
              'document.documentElement.scrollWidth - document.documentElement.clientWidth',
            )
          await page.getByTestId('history-count').waitFor()
          assert.ok((await overflow()) <= 0, 'the resource history fits 390 px')
          await page.getByRole('link', { name: 'Dashboard', exact: true }).click()
          await page.getByTestId('services-panel').locator('tr[data-service]').first().waitFor()
          assert.ok((await overflow()) <= 0, 'the dashboard fits 390 px')
          // Keyboard only: from "Last hour" to "Last 24 hours" with an arrow key.
          await page.focus('input[name=window][value="1h"]')
          const range = nextWindow()
          await page.keyboard.press('ArrowRight')
          assert.ok(await page.isChecked('input[name=window][value="24h"]'))
          await checkDashboard(await range, '24 hours from the keyboard')
        } finally {
          await page.setViewportSize({ width: 1280, height: 900 })
        }
      })
    },
  )
