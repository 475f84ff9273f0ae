/**
 * Test helper: the full application over a real SQLite file in a temporary folder, driven in-process
 * with `app.inject`. Closed automatically after the test.
 *
 * Every test app has an identity set up like a first start: account `test` (id TEST_ACCOUNT) with
 * the projects TEST_PROJECTS (and `projects` given), user `admin` holding `CTS Administrator` with
 * password ADMIN_PASSWORD and access key ADMIN_AK / ADMIN_SK. `call` signs in as that user and
 * sends the token of the project named in the URL, unless told otherwise.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { MasterKey, passwordSignInBody, type ScryptCost } from '../../src/auth/index.js'
import { loadConfig, type OpenCtsConfig } from '../../src/config/config.js'
import { buildApp } from '../../src/http/app.js'
import { OFFLOADED_TRACE_LOG_HASHING } from '../../src/log/leaf-hash-pool.js'
import { FakeClock, randomIds } from '../../src/platform/clock.js'
import { createServices, type Services } from '../../src/services.js'
import { openSqliteStore } from '../../src/store/sqlite/index.js'
import type { EmailPort } from '../../src/delivery/delivery-worker.js'
import type { ObjectSink } from '../../src/transfer/object-sink.js'

export interface TestApp {
  readonly app: FastifyInstance
  readonly services: Services
  readonly clock: FakeClock
  readonly config: OpenCtsConfig
  readonly dbPath: string
}

/** Fixed "now" of tests: 2026-11-21T12:00:00Z. */
export const TEST_NOW = Date.UTC(2026, 10, 21, 12, 0, 0)
export const TEST_ACCOUNT = 'acc00000000000000000000000000000'
export const TEST_PROJECTS = [
  '0123456789abcdef0123456789abcdef',
  '24edf66e79d04187acb99a463e610764',
] as const
export const ADMIN_PASSWORD = 'test-admin-password'
export const ADMIN_AK = 'TESTADMINACCESSKEY01'
export const ADMIN_SK = 'test-admin-secret-key-0123456789abcdefghij'
/** Cheap scrypt for tests (the default costs 0.4–1.4 s per hash here, docs/auth.md). */
export const TEST_SCRYPT_COST: ScryptCost = { log2N: 10, r: 8, p: 1 }

/** Sign-in tokens of each app's admin, by project id. */
const tokens = new WeakMap<FastifyInstance, Map<string, string>>()

export async function buildTestApp(
  t: TestContext,
  overrides: Record<string, string> = {},
  options: {
    readonly projects?: readonly string[]
    /** Sends email deliveries (see delivery/email-port.ts); none by default. */
    readonly email?: EmailPort
    /** Where trackers' buckets live (transfer, `is_obs_created`, checkbucket); none by default. */
    readonly objectSink?: ObjectSink
  } = {},
): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'opencts-app-'))
  const config = loadConfig({}, { dataDir: dir, ...overrides })
  const dbPath = join(dir, 'opencts.db')
  const store = openSqliteStore({
    path: dbPath,
    ...(config.merkleLog ? { merkle: OFFLOADED_TRACE_LOG_HASHING } : {}),
  })
  const clock = new FakeClock(TEST_NOW)
  const services = createServices({
    config,
    store,
    clock,
    ids: randomIds,
    masterKey: MasterKey.generate(),
    passwordCost: TEST_SCRYPT_COST,
    ...(options.email === undefined ? {} : { email: options.email }),
    ...(options.objectSink === undefined ? {} : { objectSink: options.objectSink }),
  })
  const app = await buildApp(services, { logLevel: false })
  t.after(async () => {
    await app.close()
    await store.close()
  })
  const admin = services.identity
  await admin.createAccount({ name: 'test', id: TEST_ACCOUNT })
  for (const id of [...TEST_PROJECTS, ...(options.projects ?? [])])
    await admin.createProject({ account: 'test', name: `project-${id.slice(0, 8)}`, id })
  await admin.createUser({ account: 'test', name: 'admin', password: ADMIN_PASSWORD })
  await admin.grant({ account: 'test', user: 'admin', policy: 'CTS Administrator' })
  await admin.createAccessKey({
    account: 'test',
    user: 'admin',
    accessKeyId: ADMIN_AK,
    secretKey: ADMIN_SK,
  })
  tokens.set(app, new Map())
  return { app, services, clock, config, dbPath }
}

/** Signs in with a password and returns the token (throws on failure). */
export async function signIn(
  app: FastifyInstance,
  input: { account: string; user: string; password: string; projectId: string },
): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: '/v3/auth/tokens',
    payload: signInBody(input),
  })
  const token = response.headers['x-subject-token']
  if (response.statusCode !== 201 || typeof token !== 'string')
    throw new Error(`sign-in failed: ${response.statusCode} ${response.body}`)
  return token
}

/** The IAM password sign-in body (the one the CLI sends). */
export const signInBody = passwordSignInBody

/** The admin's token for the project (signed in once per app and project). */
export async function adminToken(app: FastifyInstance, projectId: string): Promise<string> {
  const cache = tokens.get(app)
  if (cache === undefined) throw new Error('not an app of buildTestApp')
  let token = cache.get(projectId)
  if (token === undefined) {
    token = await signIn(app, {
      account: 'test',
      user: 'admin',
      password: ADMIN_PASSWORD,
      projectId,
    })
    cache.set(projectId, token)
  }
  return token
}

export interface CallOptions {
  /** `false`: no credential; a string: this token; headers: sent as given (no token). Default: the admin's token. */
  readonly auth?: false | string | Readonly<Record<string, string>>
}

/** The project id a URL acts on (`/v3/{id}/...`, `/v1.0/{id}/...`); the first test project otherwise. */
function projectOf(url: string): string {
  const match = /^\/v(?:3|1\.0|2\.0)\/([0-9a-f]{32})(?:\/|$|\?)/.exec(url)
  return match?.[1] ?? TEST_PROJECTS[0]
}

/** Sends a JSON request and returns status and parsed body (undefined for an empty body). */
export async function call(
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  body?: unknown,
  options: CallOptions = {},
): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
  const headers: Record<string, string> = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  const auth = options.auth
  if (auth === undefined) {
    const project = projectOf(url)
    const id = project === TEST_ACCOUNT ? TEST_PROJECTS[0] : project
    headers['x-auth-token'] = await adminToken(app, id)
  } else if (typeof auth === 'string') headers['x-auth-token'] = auth
  else if (auth !== false) Object.assign(headers, auth)
  const response = await app.inject({
    method,
    url,
    headers,
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  })
  const text = response.body
  return {
    status: response.statusCode,
    body: text === '' ? undefined : JSON.parse(text),
    headers: response.headers,
  }
}
