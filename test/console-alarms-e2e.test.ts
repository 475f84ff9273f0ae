/**
 * End-to-end test of the console's alarm page in a real browser (Debian's Chromium through
 * playwright-core) against a server on 127.0.0.1 run in-process with an injected clock, so that
 * the test drives the evaluation: the list shows each rule's state, condition and filter as the
 * API answers them; a rule created with the form is the rule the API then holds; after an
 * evaluation the state and the history shown are the API's; disable and delete act through the
 * API. On every engine of `STORES`. Skipped, saying why, only when Chromium is not installed.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { signRequest } from '../src/auth/index.js'
import { loadConfig } from '../src/config/config.js'
import { FakeClock } from '../src/platform/clock.js'
import { startServer, type RunningServer } from '../src/server.js'
import { chromiumMissing, launchChromium } from './helpers/browser.js'
import { makeTrace } from './helpers/make-trace.js'
import { createTestDatabase, testEngines, type TestDatabase } from './helpers/postgres.js'
import { repoRoot } from './helpers/repo-root.js'

const PASSWORD = 'console-alarms-password'
const AK = 'CONSOLEALARMSTEST001'
const SK = 'console-alarms-secret-0123456789abcdef'
const PROJECT = '0123456789abcdef0123456789abcdef'
const CONSOLE_INDEX = join(repoRoot(), 'dist', 'console', 'index.html')
/** Screenshots of every run (ignored by git), as console-e2e.test.ts writes them. */
const SHOTS = join(repoRoot(), 'artifacts', 'screenshots')
const missing = chromiumMissing()

const STATE_LABELS: Record<string, string> = {
  ok: 'OK',
  alarm: 'Alarm',
  insufficient_data: 'Insufficient data',
}

for (const engine of testEngines())
  describe(
    `console alarm page in Chromium (${engine} store)`,
    { skip: missing ?? false, timeout: 180_000 },
    () => {
      let database: TestDatabase | undefined
      let server: RunningServer
      let browser: Browser
      let page: Page
      const clock = new FakeClock(Date.now())

      async function api(method: string, path: string, body?: unknown): Promise<any> {
        const text = body === undefined ? undefined : JSON.stringify(body)
        const headers: Record<string, string> =
          text === undefined ? {} : { 'content-type': 'application/json' }
        const url = new URL(`${server.url}/v3/${PROJECT}${path}`)
        const signed = signRequest({
          method,
          url,
          headers,
          ...(text === undefined ? {} : { body: text }),
          accessKeyId: AK,
          secretKey: SK,
          now: clock.now(),
        })
        const res = await fetch(url, {
          method,
          headers: { ...headers, ...signed },
          ...(text === undefined ? {} : { body: text }),
          signal: AbortSignal.timeout(15_000),
        })
        const answer = await res.text()
        assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${answer}`)
        return answer === '' ? undefined : JSON.parse(answer)
      }

      /** The rows of the alarm table as shown: name → [state, condition, filter, count, enabled]. */
      async function shownRules(): Promise<Record<string, string[]>> {
        const rows = await page.$$eval('tr[data-alarm]', (trs) =>
          trs.map((tr) => [
            tr.getAttribute('data-alarm') ?? '',
            ...[...tr.querySelectorAll('td')].slice(1, 6).map((td) => td.textContent ?? ''),
          ]),
        )
        return Object.fromEntries(rows.map(([name, ...cells]) => [name ?? '', cells]))
      }

      /** The API's rules in the shape the table shows them. */
      async function apiRules(): Promise<Record<string, string[]>> {
        const { alarms } = (await api('GET', '/alarms')) as { alarms: any[] }
        return Object.fromEntries(
          alarms.map((a) => [
            a.alarm_name,
            [
              STATE_LABELS[a.state] ?? a.state,
              `${a.condition.comparison} ${a.condition.threshold} in ${a.condition.period} s`,
              Object.entries(a.filter as Record<string, string>)
                .map(([k, v]) => `${k}=${v}`)
                .join(', '),
              a.last_count === null ? '—' : String(a.last_count),
              a.enabled ? 'Yes' : 'No',
            ],
          ]),
        )
      }

      async function refreshList(): Promise<void> {
        const listed = page.waitForResponse((r) => /\/alarms$/.test(r.url()))
        await page.getByRole('button', { name: 'Refresh' }).click()
        await listed
      }

      before(async () => {
        if (missing !== null) return
        assert.ok(existsSync(CONSOLE_INDEX), `${CONSOLE_INDEX} missing: run npm run build first`)
        if (engine === 'postgres') database = await createTestDatabase('consolealarms')
        const config = loadConfig(
          {
            OPENCTS_ADMIN_ACCESS_KEY: AK,
            OPENCTS_ADMIN_SECRET_KEY: SK,
            OPENCTS_ADMIN_PROJECT_ID: PROJECT,
            OPENCTS_ADMIN_PASSWORD: PASSWORD,
            // The test runs the evaluation itself.
            OPENCTS_ALARM_INTERVAL: '3600',
          },
          {
            dataDir: mkdtempSync(join(tmpdir(), 'opencts-console-alarms-')),
            port: '0',
            logLevel: 'silent',
            ...(database === undefined ? {} : { store: database.url }),
          },
        )
        server = await startServer(config, { clock })
        await api('POST', '/alarms', {
          alarm_name: 'api-made',
          filter: { service_type: 'ECS', trace_rating: 'incident' },
          condition: { comparison: '>=', threshold: 3, period: 600 },
        })
        browser = await launchChromium()
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
        page = await context.newPage()
        page.setDefaultTimeout(20_000)
      })

      after(async () => {
        await browser?.close()
        await server?.close()
        await database?.drop()
      })

      it('signs in and lists the rules as the API answers them', async () => {
        await page.goto(`${server.url}/console/sign-in`)
        await page.fill('input[name=account]', 'opencts')
        await page.fill('input[name=user]', 'admin')
        await page.fill('input[name=password]', PASSWORD)
        await page.fill('input[name=project]', 'local-1')
        await page.getByRole('button', { name: 'Sign in' }).click()
        await page.waitForURL(/\/console\/dashboard$/)
        await page.getByRole('link', { name: 'Alarms' }).click()
        await page.waitForURL(/\/console\/alarms$/)
        await page.locator('tr[data-alarm="api-made"]').waitFor()
        assert.deepEqual(await shownRules(), await apiRules())
      })

      it('creates a rule with the form: the API holds what was entered', async () => {
        await page.getByRole('button', { name: 'Create alarm rule' }).click()
        await page.fill('input[name=alarm_name]', 'image-deletes')
        await page.fill('input[name=description]', 'deletes of images')
        await page.fill('input[name=service_type]', 'IMS')
        await page.fill('input[name=trace_name]', 'deleteImage')
        await page.selectOption('select[name=comparison]', '>')
        await page.fill('input[name=threshold]', '2')
        await page.fill('input[name=period]', '120')
        await page.getByRole('button', { name: 'Create', exact: true }).click()
        await page.locator('tr[data-alarm="image-deletes"]').waitFor()
        const { alarms } = (await api('GET', '/alarms')) as { alarms: any[] }
        const made = alarms.find((a) => a.alarm_name === 'image-deletes')
        assert.deepEqual(made?.filter, {
          trace_type: 'system',
          service_type: 'IMS',
          trace_name: 'deleteImage',
        })
        assert.deepEqual(made?.condition, { comparison: '>', threshold: 2, period: 120 })
        assert.equal(made?.description, 'deletes of images')
        assert.deepEqual(await shownRules(), await apiRules())
      })

      it('shows the state and the history after evaluations, as the API answers them', async () => {
        const { alarms } = (await api('GET', '/alarms')) as { alarms: any[] }
        const rule = alarms.find((a) => a.alarm_name === 'image-deletes')
        clock.advance(121_000)
        await server.services.store.traces.append(
          Array.from({ length: 3 }, () =>
            makeTrace({ project_id: PROJECT, trace_name: 'deleteImage', time: clock.now() - 1000 }),
          ),
        )
        await server.services.alarmEvaluator.runOnce()
        clock.advance(121_000)
        await server.services.alarmEvaluator.runOnce()
        await refreshList()
        const row = page.locator('tr[data-alarm="image-deletes"]')
        await row.getByText('OK', { exact: true }).waitFor()
        assert.deepEqual(await shownRules(), await apiRules())

        await row.getByRole('button', { name: 'History' }).click()
        const table = page.getByRole('table', { name: 'Transitions' })
        await table.waitFor()
        const shown = await table
          .locator('tbody tr')
          .evaluateAll((trs) =>
            trs.map((tr) => [...tr.querySelectorAll('td')].slice(1).map((td) => td.textContent)),
          )
        const { history } = (await api('GET', `/alarms/${rule.alarm_id}/history?limit=200`)) as {
          history: any[]
        }
        assert.equal(history.length, 2)
        assert.deepEqual(
          shown,
          history.map((h) => [
            STATE_LABELS[h.old_state],
            STATE_LABELS[h.new_state],
            h.count === null ? '—' : String(h.count),
            h.reason,
            String(h.notified),
          ]),
        )
        assert.deepEqual(
          history.map((h) => [h.old_state, h.new_state]),
          [
            ['alarm', 'ok'],
            ['insufficient_data', 'alarm'],
          ],
        )
        mkdirSync(SHOTS, { recursive: true })
        await page.screenshot({ path: join(SHOTS, `alarms-${engine}.png`), fullPage: true })
        await page.getByRole('button', { name: 'Close history' }).click()
      })

      it('disables and deletes a rule through the API', async () => {
        const row = page.locator('tr[data-alarm="image-deletes"]')
        await row.getByRole('button', { name: 'Disable' }).click()
        await row.getByRole('button', { name: 'Enable' }).waitFor()
        const { alarms } = (await api('GET', '/alarms')) as { alarms: any[] }
        assert.equal(alarms.find((a) => a.alarm_name === 'image-deletes')?.enabled, false)
        await row.getByRole('button', { name: 'Delete' }).click()
        await row.getByRole('button', { name: 'Confirm delete' }).click()
        await row.waitFor({ state: 'detached' })
        assert.deepEqual(Object.keys(await apiRules()), ['api-made'])
        assert.deepEqual(await shownRules(), await apiRules())
      })
    },
  )
