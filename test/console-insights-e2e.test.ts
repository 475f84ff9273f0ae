/**
 * End-to-end test of the console's insights page in a real browser: Debian's Chromium driven by
 * playwright-core against `opencts serve` on 127.0.0.1 (the built console of `npm run build`), on
 * the SQLite store. Traces with injected anomalies are seeded through the API (40 minutes of a
 * steady operation, then a call-rate burst, a burst of denied calls and a first-time delete); the
 * server's own detector job finds them, and the page must show exactly what
 * `GET /v3/{project_id}/insights` answers, all of it and filtered. A screenshot goes to
 * artifacts/screenshots/. Skipped, saying why, only when Chromium is not installed.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Browser, Page } from 'playwright-core'
import { chromiumMissing, launchChromium } from './helpers/browser.js'
import { repoRoot } from './helpers/repo-root.js'
import {
  adminProject,
  killAllServers,
  serve,
  signedFetch,
  type ServerProcess,
} from './helpers/server-process.js'

const PASSWORD = 'console-insights-password'
const REPO_ROOT = repoRoot()
const CONSOLE_INDEX = join(REPO_ROOT, 'dist', 'console', 'index.html')
const SHOTS = resolve(REPO_ROOT, join('artifacts', 'screenshots'))
const MINUTE = 60_000
const missing = chromiumMissing()

function trace(
  time: number,
  user: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    time,
    service_type: 'IMS',
    resource_type: 'image',
    trace_name: 'createImage',
    trace_type: 'ApiCall',
    code: 201,
    user: { id: `id-${user}`, name: user, domain: { id: 'd1', name: 'acme' } },
    source_ip: user === 'mallory' ? '203.0.113.7' : '192.0.2.10',
    ...overrides,
  }
}

describe(
  'insights page in Chromium (sqlite store)',
  { skip: missing ?? false, timeout: 180_000 },
  () => {
    let server: ServerProcess
    let browser: Browser
    let page: Page
    let project: string
    let base: string

    async function apiIds(query: Record<string, string> = {}): Promise<string[]> {
      const params = new URLSearchParams({ ...query, limit: '200' })
      const res = await signedFetch(`${base}/v3/${project}/insights?${params.toString()}`)
      assert.equal(res.status, 200, await res.clone().text())
      const body = (await res.json()) as { insights: { id: string }[] }
      return body.insights.map((i) => i.id)
    }

    async function shownIds(): Promise<string[]> {
      return page.$$eval('tr[data-insight-id]', (rows) =>
        rows.map((r) => r.getAttribute('data-insight-id') ?? ''),
      )
    }

    before(async () => {
      if (missing !== null) return
      assert.ok(existsSync(CONSOLE_INDEX), `${CONSOLE_INDEX} missing: run npm run build first`)
      const dataDir = mkdtempSync(join(tmpdir(), 'opencts-console-insights-'))
      server = await serve(dataDir, {
        OPENCTS_ADMIN_PASSWORD: PASSWORD,
        OPENCTS_INSIGHTS_INTERVAL_MS: '200',
        // Minutes close 10 minutes late: no end event can arrive while the page is compared
        // with the API (the starts are raised at once, whatever the lateness).
        OPENCTS_INSIGHTS_LATENESS_MS: '600000',
      })
      base = server.url.replace('localhost', '127.0.0.1')
      project = adminProject(dataDir)
      const now = Date.now()
      const start = now - 40 * MINUTE
      const traces: Record<string, unknown>[] = []
      for (let minute = 0; minute < 39; minute++)
        for (let i = 0; i < 5; i++)
          traces.push(trace(start + minute * MINUTE + i * 11_000, i % 2 === 0 ? 'alice' : 'bob'))
      // The bursts: within 60 ms, so in one minute (or two, each still far above the threshold).
      for (let i = 0; i < 60; i++) traces.push(trace(now - 1000 + i, 'mallory'))
      for (let i = 0; i < 25; i++)
        traces.push(
          trace(now - 900 + i, 'trudy', {
            service_type: 'IAM',
            resource_type: 'user',
            trace_name: 'listUsers',
            code: 403,
            source_ip: '198.51.100.9',
          }),
        )
      traces.push(trace(now - 800, 'alice', { trace_name: 'deleteImage', code: 204 }))
      traces.sort((a, b) => (a.time as number) - (b.time as number))
      const res = await signedFetch(`${base}/v3/${project}/traces`, {
        method: 'POST',
        body: JSON.stringify({ traces }),
      })
      assert.equal(res.status, 201, await res.clone().text())
      // The server's job runs every 200 ms: wait (bounded) for its four starts.
      const deadline = Date.now() + 20_000
      while ((await apiIds({ state: 'start' })).length < 4) {
        assert.ok(Date.now() < deadline, 'the detectors found the injected anomalies')
        await sleep(200)
      }
      browser = await launchChromium()
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
      page = await context.newPage()
      page.setDefaultTimeout(20_000)
    })

    after(async () => {
      await browser?.close()
      killAllServers()
    })

    it('signs in and shows every insight the API lists, newest first, with its values', async () => {
      await page.goto(`${base}/console/sign-in`)
      await page.fill('input[name=account]', 'opencts')
      await page.fill('input[name=user]', 'admin')
      await page.fill('input[name=password]', PASSWORD)
      await page.fill('input[name=project]', 'local-1')
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.waitForURL(/\/console\/dashboard$/)
      const listed = page.waitForResponse((r) => /\/insights\?/.test(r.url()))
      await page.getByRole('link', { name: 'Insights' }).click()
      await page.waitForURL(/\/console\/insights$/)
      await listed
      await page.locator('tr[data-insight-id]').first().waitFor()
      const api = await apiIds()
      assert.deepEqual(await shownIds(), api.slice(0, 50))
      const types = await page.$$eval('tr[data-insight-id] td:nth-child(2)', (cells) =>
        cells.map((c) => c.textContent ?? ''),
      )
      for (const type of ['ApiCallRateInsight', 'DeniedBurstInsight', 'HighRiskOperationInsight'])
        assert.ok(types.includes(type), `${type} is shown`)
      const callRow = page.locator('tr[data-insight-id]', { hasText: 'ApiCallRateInsight' }).first()
      const text = await callRow.innerText()
      assert.match(text, /IMS createImage/)
      assert.match(text, /baseline \d+(\.\d+)?\/min, \d+ in its first minute/)
      assert.match(text, /user mallory/)
      mkdirSync(SHOTS, { recursive: true })
      await page.screenshot({ path: join(SHOTS, 'insights.png'), fullPage: true })
    })

    it('filters by type and state like the API', async () => {
      const listed = page.waitForResponse((r) => /insight_type=DeniedBurstInsight/.test(r.url()))
      await page.selectOption('select[aria-label="Insight type"]', 'DeniedBurstInsight')
      await listed
      await page.getByTestId('insight-count').filter({ hasNotText: 'Loading' }).waitFor()
      const expected = await apiIds({ insight_type: 'DeniedBurstInsight' })
      assert.ok(expected.length >= 2, 'a burst per user and per source IP')
      assert.deepEqual(await shownIds(), expected)
      const started = page.waitForResponse((r) => /state=start/.test(r.url()))
      await page.selectOption('select[aria-label="State"]', 'start')
      await started
      await page.getByTestId('insight-count').filter({ hasNotText: 'Loading' }).waitFor()
      assert.deepEqual(
        await shownIds(),
        await apiIds({ insight_type: 'DeniedBurstInsight', state: 'start' }),
      )
    })
  },
)
