/**
 * Test helper: the full application over a real SQLite file in a temporary folder, driven in-process
 * with `app.inject`. Closed automatically after the test.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { loadConfig, type OpenCtsConfig } from '../../src/config/config.js'
import { buildApp } from '../../src/http/app.js'
import { FakeClock, randomIds } from '../../src/platform/clock.js'
import { createServices, type Services } from '../../src/services.js'
import { openSqliteStore } from '../../src/store/sqlite/index.js'

export interface TestApp {
  readonly app: FastifyInstance
  readonly services: Services
  readonly clock: FakeClock
  readonly config: OpenCtsConfig
  readonly dbPath: string
}

/** Fixed "now" of tests: 2026-11-21T12:00:00Z. */
export const TEST_NOW = Date.UTC(2026, 10, 21, 12, 0, 0)

export async function buildTestApp(
  t: TestContext,
  overrides: Record<string, string> = {},
): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'opencts-app-'))
  const config = loadConfig({}, { dataDir: dir, ...overrides })
  const dbPath = join(dir, 'opencts.db')
  const store = openSqliteStore({ path: dbPath })
  const clock = new FakeClock(TEST_NOW)
  const services = createServices({ config, store, clock, ids: randomIds })
  const app = await buildApp(services, { logLevel: false })
  t.after(async () => {
    await app.close()
    await store.close()
  })
  return { app, services, clock, config, dbPath }
}

/** Sends a JSON request and returns status and parsed body (undefined for an empty body). */
export async function call(
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  body?: unknown,
): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
  const response = await app.inject({
    method,
    url,
    ...(body === undefined
      ? {}
      : { payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  })
  const text = response.body
  return {
    status: response.statusCode,
    body: text === '' ? undefined : JSON.parse(text),
    headers: response.headers,
  }
}
