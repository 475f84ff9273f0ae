/**
 * First start of a data directory: the administrator is created once (generated, or from
 * OPENCTS_ADMIN_*), saved with mode 0600 next to a master key kept outside the database, and its
 * password and access key work against the real server. Later starts keep what exists.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import {
  MasterKey,
  parseCredentialsFile,
  passwordSignInBody,
  signRequest,
} from '../src/auth/index.js'
import { loadConfig } from '../src/config/config.js'
import { startServer, type RunningServer } from '../src/server.js'

function dataDir(): string {
  return mkdtempSync(join(tmpdir(), 'opencts-boot-'))
}

async function start(
  t: TestContext,
  dir: string,
  env: Record<string, string> = {},
): Promise<RunningServer> {
  const server = await startServer(loadConfig(env, { dataDir: dir, port: '0', logLevel: 'silent' }))
  t.after(() => server.close())
  return server
}

function profile(server: RunningServer): Record<string, string> {
  const profiles = parseCredentialsFile(readFileSync(server.credentialsFile, 'utf8'))
  const found = profiles.get('default')
  assert.ok(found, 'a [default] profile')
  return { ...found }
}

async function signInStatus(server: RunningServer, p: Record<string, string>): Promise<number> {
  const response = await fetch(`${server.url}/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(
      passwordSignInBody({
        account: p.account ?? '',
        user: p.user ?? '',
        password: p.password ?? '',
        projectId: p.project_id ?? '',
      }),
    ),
  })
  return response.status
}

async function signedStatus(server: RunningServer, p: Record<string, string>): Promise<number> {
  const url = new URL(`${server.url}/v3/${p.project_id}/trackers`)
  const headers = signRequest({
    method: 'GET',
    url,
    headers: {},
    accessKeyId: p.access_key ?? '',
    secretKey: p.secret_key ?? '',
    now: Date.now(),
  })
  return (await fetch(url, { headers })).status
}

describe('first start', () => {
  it('creates the administrator once, saves it with mode 0600, and it works', async (t) => {
    const dir = dataDir()
    const first = await start(t, dir)
    assert.ok(first.bootstrap !== null)
    assert.equal(first.bootstrap.account, 'opencts')
    assert.equal(first.bootstrap.user, 'admin')
    assert.equal(first.bootstrap.projectName, 'local-1', 'the project is named after the region')
    assert.match(first.bootstrap.projectId, /^[0-9a-f]{32}$/)
    assert.match(first.bootstrap.accessKey, /^[A-Z0-9]{20}$/)
    assert.equal(statSync(first.credentialsFile).mode & 0o777, 0o600)
    assert.equal(statSync(join(dir, 'master.key')).mode & 0o777, 0o600)
    const p = profile(first)
    assert.equal(p.project_id, first.bootstrap.projectId)
    assert.equal(p.endpoint, first.url, 'the endpoint is the address bound (port 0 resolved)')
    assert.equal(p.password, first.bootstrap.password)
    assert.equal(await signInStatus(first, p), 201)
    assert.equal(await signedStatus(first, p), 200)
    assert.equal(await signInStatus(first, { ...p, password: 'wrong-password' }), 401)
    assert.ok(first.dbPath !== null, 'the default store is the SQLite file of the data directory')
    const db = readFileSync(first.dbPath).toString('latin1')
    assert.ok(!db.includes(p.secret_key ?? ''), 'the secret key is not in the database file')
    await first.close()

    const again = await start(t, dir)
    assert.equal(again.bootstrap, null, 'a later start creates nothing')
    assert.deepEqual(profile(again), p, 'the credentials file is kept')
    assert.equal(await signedStatus(again, p), 200, 'the secret key opens after a restart')
  })

  it('takes the administrator from OPENCTS_ADMIN_*', async (t) => {
    const env = {
      OPENCTS_ADMIN_ACCOUNT: 'acme',
      OPENCTS_ADMIN_USER: 'ops',
      OPENCTS_ADMIN_PASSWORD: 'correct horse battery staple',
      OPENCTS_ADMIN_PROJECT: 'eu-test',
      OPENCTS_ADMIN_PROJECT_ID: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
      OPENCTS_ADMIN_ACCESS_KEY: 'AKIAOPENCTSTEST00001',
      OPENCTS_ADMIN_SECRET_KEY: 'a-secret-key-given-by-the-environment',
    }
    const server = await start(t, dataDir(), env)
    assert.ok(server.bootstrap !== null)
    assert.deepEqual([...server.bootstrap.given].sort(), [
      'accessKey',
      'account',
      'password',
      'project',
      'projectId',
      'secretKey',
      'user',
    ])
    const p = profile(server)
    assert.equal(p.account, 'acme')
    assert.equal(p.user, 'ops')
    assert.equal(p.project_name, 'eu-test')
    assert.equal(p.project_id, env.OPENCTS_ADMIN_PROJECT_ID, 'the project id given is kept')
    assert.equal(p.access_key, env.OPENCTS_ADMIN_ACCESS_KEY)
    assert.equal(await signInStatus(server, p), 201)
    assert.equal(await signedStatus(server, p), 200)
  })

  it('refuses bad OPENCTS_ADMIN_* values before creating anything', async (t) => {
    const dir = dataDir()
    for (const [env, name] of [
      [{ OPENCTS_ADMIN_PASSWORD: 'short' }, 'OPENCTS_ADMIN_PASSWORD'],
      [
        {
          OPENCTS_ADMIN_ACCESS_KEY: 'lowercase-key-000000',
          OPENCTS_ADMIN_SECRET_KEY: 'x'.repeat(20),
        },
        'OPENCTS_ADMIN_ACCESS_KEY',
      ],
      [{ OPENCTS_ADMIN_ACCESS_KEY: 'AKIAOPENCTSTEST00001' }, 'OPENCTS_ADMIN_ACCESS_KEY'],
      [{ OPENCTS_ADMIN_USER: ' admin' }, 'OPENCTS_ADMIN_USER'],
      [{ OPENCTS_ADMIN_PROJECT_ID: 'not-hex' }, 'OPENCTS_ADMIN_PROJECT_ID'],
    ] as const) {
      await assert.rejects(
        startServer(loadConfig(env, { dataDir: dir, port: '0', logLevel: 'silent' })),
        (error: Error) => error.message.includes(name),
      )
    }
    const server = await start(t, dir)
    assert.ok(server.bootstrap !== null, 'the failed starts left no half-made administrator')
  })

  it('takes the master key from OPENCTS_MASTER_KEY instead of a file, and checks it the same way', async (t) => {
    const dir = dataDir()
    const key = MasterKey.generate().toBase64()
    const first = await startServer(
      loadConfig({ OPENCTS_MASTER_KEY: key }, { dataDir: dir, port: '0', logLevel: 'silent' }),
    )
    t.after(() => first.close())
    assert.ok(first.bootstrap !== null)
    assert.equal(existsSync(join(dir, 'master.key')), false, 'no key file is written')
    assert.equal(await signedStatus(first, profile(first)), 200, 'the secret key opens with it')
    await first.close()
    // The same database with another key (here: a new key file) is refused.
    await assert.rejects(
      startServer(loadConfig({}, { dataDir: dir, port: '0', logLevel: 'silent' })),
      /does not open the secret keys/,
    )
    assert.throws(
      () => loadConfig({ OPENCTS_MASTER_KEY: 'too-short' }, { dataDir: dir }),
      /OPENCTS_MASTER_KEY must be 32 bytes in base64/,
    )
  })

  it('refuses to start with a master key that does not open the stored secret keys', async (t) => {
    const dir = dataDir()
    const first = await start(t, dir)
    await first.close()
    writeFileSync(join(dir, 'master.key'), MasterKey.generate().toBase64() + '\n')
    await assert.rejects(
      startServer(loadConfig({}, { dataDir: dir, port: '0', logLevel: 'silent' })),
      /does not open the secret keys/,
    )
  })
})
