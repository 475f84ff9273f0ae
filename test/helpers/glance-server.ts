/**
 * @module test/helpers/glance-server
 * A real OpenStack Glance (Debian bookworm's `glance-api`, 25.x) on loopback for tests: the
 * eventlet `glance-api` in one process (`workers = 0`, no daemon, no systemd) on a free port,
 * with an SQLite database, the file store and its log in a fresh temporary folder.
 *
 * There is no Keystone. The paste pipeline is Glance's `context` middleware without `authtoken`,
 * so the identity is whatever the client's headers say: `X-Identity-Status: Confirmed`,
 * `X-Project-Id`, `X-User-Id`, `X-Roles` (see `identityHeaders` and docs/glance-testing.md).
 *
 *   const glance = await startGlance(t)   // stopped by t.after; or call glance.stop() yourself
 *   await fetch(`${glance.url}/v2/images`, { headers: glance.headers })
 *
 * The packages come from `.ci/run` (`apt-get install glance-api python3-glanceclient`). Without
 * them `startGlance` throws; `glanceInstalled()` lets a test skip with a reason outside CI.
 */
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Anything with `after(fn)`: a `node:test` TestContext or SuiteContext. */
export interface AfterHook {
  after(fn: () => Promise<void>): void
}

export interface GlanceServer {
  /** `http://127.0.0.1:PORT` (the image API is under `/v2`). */
  readonly url: string
  readonly port: number
  /** The project that owns what a client creates with `headers`. */
  readonly projectId: string
  readonly userId: string
  /** Identity headers a client must send on every request to act as `projectId`/`userId`. */
  readonly headers: Record<string, string>
  /** A second project, e.g. the recipient of an image membership. */
  readonly memberProjectId: string
  /** Identity headers of `memberProjectId` (it, not the owner, accepts a membership). */
  readonly memberHeaders: Record<string, string>
  /** The temporary folder (config, database, images, log); removed by `stop`. */
  readonly dir: string
  readonly logFile: string
  /** The last lines of Glance's log (empty once stopped). */
  logTail(lines?: number): Promise<string>
  /** Kills Glance and removes its folder; safe to call twice. */
  stop(): Promise<void>
}

export interface Identity {
  readonly projectId: string
  readonly userId: string
  /** Default `member,reader`; `admin` makes the request an admin one (sees and may do anything). */
  readonly roles?: readonly string[]
  readonly userName?: string
  readonly projectName?: string
}

const GLANCE_API = '/usr/bin/glance-api'
const GLANCE_MANAGE = '/usr/bin/glance-manage'
const PYTHON = '/usr/bin/python3'
const GLANCECLIENT_DIR = '/usr/lib/python3/dist-packages/glanceclient'
const START_TIMEOUT_MS = 60_000
const DB_SYNC_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 10_000
const START_ATTEMPTS = 3
const NOT_INSTALLED =
  'OpenStack Glance is not installed (need /usr/bin/glance-api, /usr/bin/glance-manage and ' +
  'python3-glanceclient): run .ci/run, or `apt-get install -y glance-api python3-glanceclient`'

export const OWNER_PROJECT_ID = '0c7e3b5a41d24d1f9a3b6e2f8d1c4a70'
export const OWNER_USER_ID = '5f1d2c3b4a5e4f60a7b8c9d0e1f2a3b4'
export const MEMBER_PROJECT_ID = '9b8a7c6d5e4f40a1b2c3d4e5f6a7b8c9'
export const MEMBER_USER_ID = 'e1d2c3b4a5f64e7d8c9b0a1f2e3d4c5b'

/** True when the Debian packages the harness needs are installed. */
export function glanceInstalled(): boolean {
  return [GLANCE_API, GLANCE_MANAGE, PYTHON, GLANCECLIENT_DIR].every((path) => existsSync(path))
}

/** The headers Glance's `context` middleware (no Keystone) turns into a request context. */
export function identityHeaders(identity: Identity): Record<string, string> {
  const headers: Record<string, string> = {
    'X-Identity-Status': 'Confirmed',
    'X-Project-Id': identity.projectId,
    'X-User-Id': identity.userId,
    'X-Roles': (identity.roles ?? ['member', 'reader']).join(','),
  }
  if (identity.userName !== undefined) headers['X-User-Name'] = identity.userName
  if (identity.projectName !== undefined) headers['X-Project-Name'] = identity.projectName
  return headers
}

/** The paste pipeline: Glance's own apps behind `context` (headers → identity), no `authtoken`. */
export function pasteIni(dir: string): string {
  return `[pipeline:glance-api]
pipeline = healthcheck versionnegotiation context rootapp

[composite:rootapp]
paste.composite_factory = glance.api:root_app_factory
/: apiversions
/v2: apiv2app

[app:apiversions]
paste.app_factory = glance.api.versions:create_resource

[app:apiv2app]
paste.app_factory = glance.api.v2.router:API.factory

[filter:healthcheck]
paste.filter_factory = oslo_middleware:Healthcheck.factory
backends = disable_by_file
disable_by_file_path = ${dir}/healthcheck_disable

[filter:versionnegotiation]
paste.filter_factory = glance.api.middleware.version_negotiation:VersionNegotiationFilter.factory

[filter:context]
paste.filter_factory = glance.api.middleware.context:ContextMiddleware.factory
`
}

/** `glance-api.conf` for a Glance on 127.0.0.1:`port` that keeps everything under `dir`. */
export function glanceApiConf(dir: string, port: number): string {
  return `[DEFAULT]
bind_host = 127.0.0.1
bind_port = ${port}
# 0 = one process, no forked workers
workers = 0
log_file = ${dir}/glance-api.log
use_stderr = false
debug = false
node_staging_uri = file://${dir}/staging
image_cache_dir = ${dir}/cache
enforce_secure_rbac = false
allow_anonymous_access = false

[database]
connection = sqlite:///${dir}/glance.sqlite

[glance_store]
stores = file
default_store = file
filesystem_store_datadir = ${dir}/images/

[paste_deploy]
flavor =
config_file = ${dir}/glance-api-paste.ini

[oslo_concurrency]
lock_path = ${dir}/locks

[oslo_policy]
enforce_new_defaults = false
policy_file = ${dir}/policy.yaml

[oslo_messaging_notifications]
driver = noop
`
}

/** The child's environment: the machine's, without Python overrides (pyenv etc.). */
function pythonEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  delete env.PYTHONPATH
  delete env.PYTHONHOME
  delete env.VIRTUAL_ENV
  env.PATH = `/usr/bin:/bin:${env.PATH ?? ''}`
  return env
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))))
    })
  })
}

async function tail(file: string, lines = 40): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return ''
  }
}

function run(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { cwd, env: pythonEnv(), timeout: DB_SYNC_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`.trim()
        if (error === null) resolve(output)
        else reject(new Error(`${cmd} ${args.join(' ')} failed: ${error.message}\n${output}`))
      },
    )
  })
}

/**
 * Writes the config into a fresh temporary folder, creates the database (`glance-manage db_sync`),
 * starts `glance-api` and resolves once `GET /versions` answers (within 60 s). Rejects, with the
 * log's tail, if it exits first or does not answer in time; retries on another port if the one it
 * picked was taken meanwhile. With `t`, stops it in `t.after`.
 */
export async function startGlance(t?: AfterHook): Promise<GlanceServer> {
  if (!glanceInstalled()) throw new Error(NOT_INSTALLED)
  const dir = await mkdtemp(join(tmpdir(), 'opencts-glance-'))
  let current: GlanceServer | undefined
  const cleanup = async (): Promise<void> => {
    if (current !== undefined) await current.stop()
    await rm(dir, { recursive: true, force: true })
  }
  t?.after(cleanup)
  try {
    for (const sub of ['images', 'staging', 'cache', 'locks']) await mkdir(join(dir, sub))
    await writeFile(join(dir, 'glance-api-paste.ini'), pasteIni(dir))
    await writeFile(join(dir, 'policy.yaml'), '{}\n')
    const conf = join(dir, 'glance-api.conf')
    await writeFile(conf, glanceApiConf(dir, 9292))
    await run(GLANCE_MANAGE, ['--config-file', conf, 'db_sync'], dir)
    let lastError: unknown
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      const port = await freePort()
      await writeFile(conf, glanceApiConf(dir, port))
      try {
        current = await launch(dir, conf, port)
        const server = current
        return { ...server, stop: cleanup }
      } catch (error) {
        lastError = error
        if (!(error instanceof PortTakenError)) break
      }
    }
    throw lastError
  } catch (error) {
    await cleanup()
    throw error
  }
}

class PortTakenError extends Error {}

async function launch(dir: string, conf: string, port: number): Promise<GlanceServer> {
  const logFile = join(dir, 'glance-api.log')
  await rm(logFile, { force: true })
  const child = spawn(GLANCE_API, ['--config-file', conf], {
    cwd: dir,
    env: pythonEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const keep = (chunk: string): void => {
    output = (output + chunk).slice(-8192)
  }
  child.stdout.setEncoding('utf8').on('data', keep)
  child.stderr.setEncoding('utf8').on('data', keep)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let spawnError: Error | undefined
  child.once('error', (error) => (spawnError = error))

  let stopped: Promise<void> | undefined
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null && spawnError === undefined) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
        await exited
        clearTimeout(timer)
      }
    })())

  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + START_TIMEOUT_MS
  let ready = false
  while (Date.now() < deadline) {
    if (spawnError !== undefined || child.exitCode !== null || child.signalCode !== null) break
    try {
      const response = await fetch(`${url}/versions`, { signal: AbortSignal.timeout(2_000) })
      await response.arrayBuffer()
      if (response.status === 200 || response.status === 300) {
        ready = true
        break
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  if (!ready) {
    const why =
      spawnError !== undefined
        ? `could not be spawned (${spawnError.message})`
        : child.exitCode !== null || child.signalCode !== null
          ? `exited (${child.signalCode ?? `code ${child.exitCode}`}) before answering`
          : `did not answer GET /versions within ${START_TIMEOUT_MS} ms`
    await stop()
    const log = await tail(logFile)
    const message = `glance-api on port ${port} ${why}; log tail:\n${log}\n${output.trim()}`
    if (/address already in use/i.test(log + output)) throw new PortTakenError(message)
    throw new Error(message)
  }
  return {
    url,
    port,
    projectId: OWNER_PROJECT_ID,
    userId: OWNER_USER_ID,
    headers: identityHeaders({
      projectId: OWNER_PROJECT_ID,
      userId: OWNER_USER_ID,
      userName: 'opencts-owner',
      projectName: 'opencts-owner-project',
    }),
    memberProjectId: MEMBER_PROJECT_ID,
    memberHeaders: identityHeaders({
      projectId: MEMBER_PROJECT_ID,
      userId: MEMBER_USER_ID,
      userName: 'opencts-member',
      projectName: 'opencts-member-project',
    }),
    dir,
    logFile,
    logTail: (lines?: number) => tail(logFile, lines),
    stop,
  }
}
