import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { it } from 'node:test'
import { loadConfig } from '../src/config/config.js'
import { MasterKey } from '../src/auth/index.js'
import { buildApp } from '../src/http/app.js'
import { randomIds, systemClock } from '../src/platform/clock.js'
import { createServices } from '../src/services.js'
import { openSqliteStore } from '../src/store/sqlite/index.js'

it('logs one JSON line per request, with route and status, and no credentials', async (t) => {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l !== ''),
      )
      done()
    },
  })
  const dir = mkdtempSync(join(tmpdir(), 'opencts-log-'))
  const store = openSqliteStore({ path: join(dir, 'db') })
  const services = createServices({
    config: loadConfig({}, { dataDir: dir }),
    store,
    clock: systemClock,
    ids: randomIds,
    masterKey: MasterKey.generate(),
  })
  const app = await buildApp(services, { logLevel: 'info', logStream: stream })
  t.after(async () => {
    await app.close()
    await store.close()
  })
  const secret = 'MIIsecret-token-value'
  await app.inject({
    method: 'GET',
    url: '/v3/p1/traces?limit=5',
    headers: { 'x-auth-token': secret, authorization: `Bearer ${secret}` },
  })
  await app.inject({ method: 'GET', url: '/nope' })
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
  const requests = records.filter((r) => r.msg === 'request')
  assert.equal(requests.length, 2, 'one line per request')
  assert.equal(requests[0]?.route, '/v3/:project_id/traces')
  assert.equal(requests[0]?.status, 401, 'the made-up token is refused')
  assert.equal(requests[0]?.method, 'GET')
  assert.equal(typeof requests[0]?.reqId, 'string')
  assert.equal(requests[1]?.status, 404)
  assert.ok(!lines.some((l) => l.includes(secret)), 'no credential in the log')
})
