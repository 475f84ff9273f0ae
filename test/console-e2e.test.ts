/**
 * End-to-end tests of the web console in a real browser: Debian's Chromium driven by playwright-core
 * against `opencts serve` on 127.0.0.1 (the built console of `npm run build`). Traces are seeded
 * through the API; every filter, the trace view, the export, the chart, trackers and notifications
 * are checked against the API's own answers, on every engine of `STORES` (default SQLite and
 * PostgreSQL: "serves the whole API, console included"). Screenshots go to artifacts/screenshots/ (see SHOTS).
 * Skipped, saying why, only when Chromium is not installed.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Fastify from 'fastify'
import type { Browser, Page } from 'playwright-core'
import { registerConsoleRoutes } from '../src/http/routes/console.js'
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

const PASSWORD = 'console-e2e-password'
const REPO_ROOT = repoRoot()
const CONSOLE_INDEX = join(REPO_ROOT, 'dist', 'console', 'index.html')
/**
 * Screenshots are written on every run to artifacts/screenshots/ (ignored by git, kept by CI);
 * OPENCTS_SCREENSHOTS_DIR=docs/screenshots refreshes the copies the README shows.
 */
const SHOTS = resolve(
  REPO_ROOT,
  process.env.OPENCTS_SCREENSHOTS_DIR ?? join('artifacts', 'screenshots'),
)
const missing = chromiumMissing()

describe('console assets route', () => {
  it('answers a readable page, not a blank one, when the console was not built', async (t) => {
    const app = Fastify()
    t.after(() => app.close())
    registerConsoleRoutes(app, { dir: mkdtempSync(join(tmpdir(), 'opencts-noconsole-')) })
    const res = await app.inject({ method: 'GET', url: '/console/traces' })
    assert.equal(res.statusCode, 503)
    assert.match(String(res.headers['content-type']), /text\/html/)
    assert.match(res.body, /npm run build/)
    assert.match(String(res.headers['content-security-policy']), /default-src 'self'/)
  })

  it('serves the icon a browser asks for, built or not (no 404)', async (t) => {
    const app = Fastify()
    t.after(() => app.close())
    registerConsoleRoutes(app, { dir: mkdtempSync(join(tmpdir(), 'opencts-noconsole-')) })
    for (const url of ['/favicon.ico', '/favicon.svg']) {
      const res = await app.inject({ method: 'GET', url })
      assert.equal(res.statusCode, 200, url)
      assert.equal(res.headers['content-type'], 'image/svg+xml', url)
      assert.match(res.body, /^<svg /, url)
    }
  })
})

for (const engine of testEngines())
  describe(
    `web console in Chromium (${engine} store)`,
    { skip: missing ?? false, timeout: 300_000 },
    () => {
      let database: TestDatabase | undefined
      let server: ServerProcess
      let browser: Browser
      let page: Page
      let project: string
      let base: string
      const seeded: Record<string, string> = {}

      async function apiIds(params: Record<string, string>): Promise<string[]> {
        const ids: string[] = []
        let next: string | null = null
        for (let i = 0; i < 50; i += 1) {
          const query = new URLSearchParams({ ...params, limit: '200', ...(next ? { next } : {}) })
          const res = await signedFetch(`${base}/v3/${project}/traces?${query.toString()}`)
          assert.equal(res.status, 200, await res.clone().text())
          const body = (await res.json()) as any
          ids.push(...body.traces.map((t: any) => t.trace_id as string))
          next = body.meta_data.marker
          if (next === null) return ids
        }
        throw new Error('too many pages')
      }

      async function shownIds(): Promise<string[]> {
        return page.$$eval('tr[data-trace-id]', (rows) =>
          rows.map((r) => r.getAttribute('data-trace-id') ?? ''),
        )
      }

      /** Clicks a button that reloads the list and waits until the list is shown. */
      async function runQuery(button = 'Query'): Promise<void> {
        const listed = page.waitForResponse((r) => /\/traces\?/.test(r.url()))
        await page.getByRole('button', { name: button, exact: true }).click()
        await listed
        await page.getByTestId('trace-count').filter({ hasNotText: 'Loading' }).waitFor()
      }

      /** Follows "Load more" until every matching trace is shown (bounded). */
      async function shownAll(): Promise<string[]> {
        for (let i = 0; i < 20; i += 1) {
          const more = page.getByRole('button', { name: 'Load more' })
          if (!(await more.isVisible())) break
          const before = (await shownIds()).length
          await more.click()
          await page.locator('tr[data-trace-id]').nth(before).waitFor()
        }
        return shownIds()
      }

      async function resetFilters(): Promise<void> {
        await runQuery('Reset')
      }

      before(async () => {
        if (missing !== null) return
        assert.ok(existsSync(CONSOLE_INDEX), `${CONSOLE_INDEX} missing: run npm run build first`)
        const dataDir = mkdtempSync(join(tmpdir(), 'opencts-console-'))
        if (engine === 'postgres') database = await createTestDatabase('console')
        server = await serve(dataDir, {
          OPENCTS_ADMIN_PASSWORD: PASSWORD,
          ...(database === undefined ? {} : { OPENCTS_STORE: database.url }),
        })
        base = server.url.replace('localhost', '127.0.0.1')
        project = adminProject(dataDir)
        const now = Date.now()
        const traces: Record<string, unknown>[] = []
        for (let i = 0; i < 55; i += 1)
          traces.push(
            trace(now - 60_000 - i * 20_000, {
              resource_id: `img-${i}`,
              resource_name: `image-${i}`,
            }),
          )
        traces.push(
          trace(now - 30_000, {
            trace_name: 'deleteImage',
            resource_id: 'img-1',
            resource_name: 'image-1',
            code: 403,
            user: user('bob'),
            response: '{"error_code":"IMS.0001","error_msg":"denied"}',
          }),
          trace(now - 40_000, {
            service_type: 'ECS',
            resource_type: 'server',
            trace_name: 'deleteServer',
            resource_id: 'srv-1',
            resource_name: 'web-1',
            trace_rating: 'incident',
            code: 500,
          }),
          trace(now - 50_000, {
            service_type: 'VPC',
            resource_type: 'eip',
            trace_name: 'updateEip',
            resource_id: 'eip-1',
            resource_name: '192.0.2.1',
            user: user('carol'),
          }),
          trace(now - 3 * 3_600_000, {
            service_type: 'ECS',
            resource_type: 'server',
            trace_name: 'createServer',
            resource_id: 'srv-old',
            resource_name: 'old-1',
          }),
          trace(now - 70_000, {
            service_type: 'OBS',
            resource_type: 'object',
            trace_name: 'PutObject',
            trace_type: 'ObsSDK',
            tracker_name: 'dt1',
            resource_id: 'bucket/key',
            resource_name: 'key',
          }),
        )
        const res = await signedFetch(`${base}/v3/${project}/traces`, {
          method: 'POST',
          body: JSON.stringify({ traces }),
        })
        assert.equal(res.status, 201, await res.clone().text())
        const ids = ((await res.json()) as any).trace_ids as string[]
        seeded.deleteImage = ids[55] ?? ''
        browser = await launchChromium()
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
        page = await context.newPage()
        page.setDefaultTimeout(20_000)
      })

      after(async () => {
        await browser?.close()
        killAllServers()
        await database?.drop()
      })

      it('redirects an unauthenticated visit to sign-in and shows a wrong password readably', async () => {
        await page.goto(`${base}/console/traces`)
        await page.waitForURL(/\/console\/sign-in$/)
        await page.fill('input[name=account]', 'opencts')
        await page.fill('input[name=user]', 'admin')
        await page.fill('input[name=password]', 'wrong-password')
        await page.fill('input[name=project]', 'local-1')
        await page.getByRole('button', { name: 'Sign in' }).click()
        const error = page.getByTestId('error')
        await error.waitFor()
        assert.match(await error.innerText(), /Incorrect user name or password.*IAM\.0062.*401/s)
      })

      it('signs in to the dashboard, keeps the token out of the URL, and lists the traces of the last hour with load more', async () => {
        await page.fill('input[name=password]', PASSWORD)
        await page.getByRole('button', { name: 'Sign in' }).click()
        await page.waitForURL(/\/console\/dashboard$/)
        const listed = page.waitForResponse((r) => /\/traces\?/.test(r.url()))
        await page.getByRole('link', { name: 'Trace list', exact: true }).click()
        await page.waitForURL(/\/console\/traces$/)
        await listed
        await page.getByRole('button', { name: 'Load more' }).waitFor()
        assert.equal((await shownIds()).length, 50)
        const token = await page.evaluate<string | null>(
          "sessionStorage.getItem('opencts.session')",
        )
        assert.ok(token !== null && !page.url().includes('octs1_'), 'token in session storage only')
        const more = page.waitForResponse((r) => /next=/.test(r.url()))
        await page.getByRole('button', { name: 'Load more' }).click()
        await more
        await page.locator('tr[data-trace-id]').nth(50).waitFor()
        const shown = await shownIds()
        const api = await apiIds({ from: String(Date.now() - 3_600_000) })
        assert.equal(new Set(shown).size, shown.length, 'no trace twice')
        assert.ok(shown.length >= 58, `all seeded traces of the hour shown, got ${shown.length}`)
        for (const id of shown) assert.ok(api.includes(id), `${id} is a trace of the API`)
      })

      it('filters by source, resource type, each search field, operator and status like the API', async () => {
        const from = String(Date.now() - 3_600_000)
        const check = async (label: string, params: Record<string, string>): Promise<void> => {
          await runQuery()
          const expected = await apiIds({ from, ...params })
          assert.ok(expected.length > 0, `${label}: the API finds traces`)
          assert.deepEqual(await shownAll(), expected, label)
        }
        await page.selectOption('select[name=serviceType]', 'IMS')
        await check('source IMS', { service_type: 'IMS' })
        await page.selectOption('select[name=resourceType]', 'image')
        await check('resource type image', { service_type: 'IMS', resource_type: 'image' })
        await page.selectOption('select[name=searchBy]', 'resource_id')
        await page.fill('input[name=search]', 'img-1')
        await check('resource id', {
          service_type: 'IMS',
          resource_type: 'image',
          resource_id: 'img-1',
        })
        await resetFilters()
        await page.selectOption('select[name=searchBy]', 'trace_name')
        await page.fill('input[name=search]', 'deleteServer')
        await check('trace name', { trace_name: 'deleteServer' })
        await page.selectOption('select[name=searchBy]', 'resource_name')
        await page.fill('input[name=search]', '192.0.2.1')
        await check('resource name', { resource_name: '192.0.2.1' })
        await page.selectOption('select[name=searchBy]', 'trace_id')
        await page.fill('input[name=search]', seeded.deleteImage ?? '')
        await check('trace id', { trace_id: seeded.deleteImage ?? '' })
        await page.fill('input[name=search]', '')
        await page.selectOption('select[name=user]', 'bob')
        await check('operator bob', { user: 'bob' })
        await page.selectOption('select[name=user]', '')
        await page.check('input[name=rating][value=incident]')
        await check('status incident', { trace_rating: 'incident' })
        await page.check('input[name=rating][value=warning]')
        await check('status warning', { trace_rating: 'warning' })
        await resetFilters()
        await page.selectOption('select[name=traceType]', 'data')
        await check('data traces', { trace_type: 'data' })
      })

      it('filters by time preset and by a custom range within 7 days', async () => {
        await resetFilters()
        await page.selectOption('select[name=serviceType]', 'ECS')
        await page.check('input[name=range][value="1d"]')
        await runQuery()
        const day = await shownIds()
        assert.deepEqual(
          day,
          await apiIds({ service_type: 'ECS', from: String(Date.now() - 86_400_000) }),
        )
        assert.equal(day.length, 2, 'the 3-hour-old trace is in the last day')
        const local = (ms: number): string => {
          const d = new Date(ms)
          const p = (n: number): string => String(n).padStart(2, '0')
          return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`
        }
        const fromText = local(Date.now() - 4 * 3_600_000)
        const toText = local(Date.now() - 2 * 3_600_000)
        await page.check('input[name=range][value=custom]')
        await page.fill('input[name=customFrom]', fromText)
        await page.fill('input[name=customTo]', toText)
        await runQuery()
        const expected = await apiIds({
          service_type: 'ECS',
          from: String(Date.parse(fromText)),
          to: String(Date.parse(toText)),
        })
        assert.equal(expected.length, 1)
        assert.deepEqual(await shownIds(), expected)
      })

      it('shows every field of a trace and its full JSON with request and response pretty-printed', async () => {
        await resetFilters()
        await page.selectOption('select[name=searchBy]', 'trace_id')
        await page.fill('input[name=search]', seeded.deleteImage ?? '')
        await runQuery()
        const res = await signedFetch(`${base}/v3/${project}/traces?trace_id=${seeded.deleteImage}`)
        const apiTrace = ((await res.json()) as any).traces[0]
        const name = page.getByRole('button', { name: /deleteImage/ })
        await name.focus()
        await page.keyboard.press('Enter')
        const detail = page.locator('tr.detail')
        await detail.waitFor()
        const text = await detail.innerText()
        for (const key of Object.keys(apiTrace)) assert.match(text, new RegExp(key), key)
        await page.getByRole('button', { name: 'View trace' }).click()
        // The dialog opens in an effect after the render: wait for it, else Escape below may come
        // first and the dialog open afterwards, over the page of the next tests.
        await page.getByRole('dialog', { name: 'Trace JSON' }).waitFor({ state: 'visible' })
        const json = await page.getByTestId('trace-json').innerText()
        assert.deepEqual(JSON.parse(json), {
          ...apiTrace,
          request: JSON.parse(apiTrace.request),
          response: JSON.parse(apiTrace.response),
        })
        assert.match(json, /\n {4}"error_code": "IMS.0001"/, 'response body pretty-printed')
        await page.keyboard.press('Escape')
        await page.getByTestId('trace-json').waitFor({ state: 'hidden' })
      })

      it('exports the current query as CSV with the same traces as the API', async () => {
        await resetFilters()
        await page.selectOption('select[name=serviceType]', 'IMS')
        await runQuery()
        const download = page.waitForEvent('download')
        await page.selectOption('select[name=exportFormat]', 'csv')
        await page.getByRole('button', { name: 'Export', exact: true }).click()
        const file = await (await download).path()
        const lines = readFileSync(file, 'utf8').trim().split('\r\n')
        assert.equal(lines[0]?.split(',')[0], 'trace_id')
        const ids = lines.slice(1).map((l) => l.split(',')[0])
        const expected = await apiIds({ service_type: 'IMS', from: String(Date.now() - 3_600_000) })
        assert.equal(ids.length, 56)
        assert.deepEqual(ids, expected)
      })

      it('charts activity by status and top operations over the range, and saves screenshots', async () => {
        await resetFilters()
        const summary = page.getByTestId('chart-summary')
        await summary.waitFor()
        const total = (await apiIds({ from: String(Date.now() - 3_600_000) })).length
        const counted = Number(/^(\d+)/.exec(await summary.innerText())?.[1])
        assert.ok(Math.abs(counted - total) <= 2, `chart counts ${counted}, API ${total}`)
        const hour = String(Date.now() - 3_600_000)
        const bad =
          (await apiIds({ from: hour, trace_rating: 'warning' })).length +
          (await apiIds({ from: hour, trace_rating: 'incident' })).length
        assert.match(await summary.innerText(), new RegExp(`\\b${bad} warning or incident`))
        const top = await page.getByTestId('top-operations').innerText()
        assert.match(top.split('\n')[0] ?? '', /IMS createImage/)
        mkdirSync(SHOTS, { recursive: true })
        await page.evaluate('window.scrollTo(0, 0)')
        await page.screenshot({ path: join(SHOTS, 'trace-list.png'), fullPage: false })
        await page
          .getByTestId('activity-chart')
          .screenshot({ path: join(SHOTS, 'activity-chart.png') })
        assert.ok(existsSync(join(SHOTS, 'trace-list.png')))
      })

      it('shows an API error readably, never a blank page', async () => {
        await page.selectOption('select[name=searchBy]', 'trace_id')
        await page.fill('input[name=search]', 'not-a-uuid')
        await page.getByRole('button', { name: 'Query', exact: true }).click()
        const error = page.getByTestId('error').first()
        await error.waitFor()
        assert.match(await error.innerText(), /trace_id must be a UUID.*CTS\.0300.*HTTP 400/s)
        assert.ok(await page.getByRole('heading', { name: 'Trace list' }).isVisible())
      })

      it('creates, disables and deletes a data tracker through the API', async () => {
        await page.getByRole('link', { name: 'Trackers' }).click()
        await page.getByRole('button', { name: 'Create tracker' }).click()
        await page.selectOption('select[name=tracker_type]', 'data')
        await page.fill('input[name=tracker_name]', 'e2e-tracker')
        await page.fill('input[name=data_bucket_name]', 'e2e-tracked-bucket')
        await page.check('input[name=is_support_validate]')
        await page.getByRole('button', { name: 'Create', exact: true }).click()
        const row = page.locator('tr[data-tracker="e2e-tracker"]')
        await row.waitFor()
        const get = async (): Promise<any[]> =>
          (
            (await (
              await signedFetch(`${base}/v3/${project}/trackers?tracker_name=e2e-tracker`)
            ).json()) as any
          ).trackers
        const [created] = await get()
        assert.equal(created.tracker_type, 'data')
        assert.equal(created.data_bucket.data_bucket_name, 'e2e-tracked-bucket')
        assert.equal(created.is_support_validate, true)
        assert.match(await row.innerText(), /enabled/)
        await row.getByRole('button', { name: 'Disable' }).click()
        await row.getByRole('button', { name: 'Enable' }).waitFor()
        assert.equal((await get())[0].status, 'disabled')
        await row.getByRole('button', { name: 'Delete' }).click()
        await row.getByRole('button', { name: 'Confirm delete' }).click()
        await row.waitFor({ state: 'detached' })
        assert.deepEqual(await get(), [])
      })

      it('creates a key event notification with the operation picker, users and a filter rule', async () => {
        await page.getByRole('link', { name: 'Key event notifications' }).click()
        await page.getByRole('button', { name: 'Create notification' }).click()
        await page.fill('input[name=notification_name]', 'e2e_notify')
        await page.selectOption('select[name=pick_service]', 'CTS')
        await page.selectOption('select[name=pick_resource]', 'tracker')
        await page.check('input[name=op_createTracker]')
        await page.check('input[name=op_deleteTracker]')
        await page.getByRole('button', { name: 'Add operations' }).click()
        await page.getByRole('button', { name: 'Add user group' }).click()
        await page.fill('input[name=group_0]', 'admins')
        await page.fill('input[name=users_0]', 'alice, bob')
        await page.check('input[name=is_support_filter]')
        await page.getByRole('button', { name: 'Add rule' }).click()
        await page.getByRole('button', { name: 'Create', exact: true }).click()
        await page.locator('tr[data-notification="e2e_notify"]').waitFor()
        const res = await signedFetch(
          `${base}/v3/${project}/notifications/smn?notification_name=e2e_notify`,
        )
        const [n] = ((await res.json()) as any).notifications
        assert.equal(n.operation_type, 'customized')
        assert.deepEqual(n.operations, [
          {
            service_type: 'CTS',
            resource_type: 'tracker',
            trace_names: ['createTracker', 'deleteTracker'],
          },
        ])
        assert.deepEqual(n.notify_user_list, [
          { user_group: 'admins', user_list: ['alice', 'bob'] },
        ])
        assert.deepEqual(n.filter, {
          is_support_filter: true,
          condition: 'AND',
          rule: ['code != 200'],
        })
      })

      it('is usable at a narrow width and from the keyboard alone', async () => {
        await page.goto(`${base}/console/traces`)
        await page.getByTestId('trace-count').filter({ hasNotText: 'Loading' }).waitFor()
        await resetFilters()
        await page.setViewportSize({ width: 390, height: 844 })
        try {
          // The page itself never scrolls sideways (wide tables scroll inside their own box).
          const overflow = await page.evaluate<number>(
            'document.documentElement.scrollWidth - document.documentElement.clientWidth',
          )
          assert.ok(overflow <= 0, `page overflows the 390 px viewport by ${overflow} px`)
          for (const name of ['Query', 'Reset', 'Export'])
            assert.ok(await page.getByRole('button', { name, exact: true }).isVisible(), name)
          // Keyboard only: focus the status radios, pick "Incident" with the arrow keys, then Query.
          await page.focus('input[name=rating][value=""]')
          await page.keyboard.press('ArrowRight')
          await page.keyboard.press('ArrowRight')
          await page.keyboard.press('ArrowRight')
          assert.ok(await page.isChecked('input[name=rating][value=incident]'))
          const listed = page.waitForResponse((r) => /trace_rating=incident/.test(r.url()))
          await page.getByRole('button', { name: 'Query', exact: true }).focus()
          await page.keyboard.press('Enter')
          await listed
          await page.getByTestId('trace-count').filter({ hasNotText: 'Loading' }).waitFor()
          const expected = await apiIds({
            from: String(Date.now() - 3_600_000),
            trace_rating: 'incident',
          })
          assert.deepEqual(await shownAll(), expected)
          // A row's details open from the keyboard too.
          await page.locator('tr[data-trace-id] button[aria-expanded]').first().focus()
          await page.keyboard.press('Enter')
          assert.equal(
            await page
              .locator('tr[data-trace-id] button[aria-expanded]')
              .first()
              .getAttribute('aria-expanded'),
            'true',
          )
        } finally {
          await page.setViewportSize({ width: 1280, height: 900 })
        }
      })

      it('signs out: the token is revoked and the console asks to sign in again', async () => {
        const session = await page.evaluate<string | null>(
          "sessionStorage.getItem('opencts.session')",
        )
        const token = JSON.parse(session ?? '{}').token as string
        await page.getByRole('button', { name: 'Sign out' }).click()
        await page.waitForURL(/\/console\/sign-in$/)
        const check = await fetch(`${base}/v3/${project}/traces`, {
          headers: { 'x-auth-token': token },
        })
        assert.equal(check.status, 401)
        await page.goto(`${base}/console/trackers`)
        await page.waitForURL(/\/console\/sign-in$/)
      })

      it('serves the console with a strict CSP, cache headers and client-route fallback', async () => {
        const index = await fetch(`${base}/console/notifications`)
        assert.equal(index.status, 200)
        assert.match(index.headers.get('content-type') ?? '', /text\/html/)
        assert.equal(index.headers.get('cache-control'), 'no-cache')
        const csp = index.headers.get('content-security-policy') ?? ''
        assert.match(csp, /default-src 'self'/)
        assert.match(csp, /script-src 'self'(;|$)/)
        const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(await index.text())?.[1]
        assert.ok(asset !== undefined)
        const js = await fetch(`${base}${asset}`)
        assert.match(js.headers.get('content-type') ?? '', /text\/javascript/)
        assert.match(js.headers.get('cache-control') ?? '', /immutable/)
        assert.equal((await fetch(`${base}/console/%2e%2e/package.json`)).status, 404)
      })
    },
  )

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
