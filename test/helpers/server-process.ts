/**
 * Test helper: `opencts serve` as a child process (the compiled CLI beside the compiled tests), for
 * end-to-end tests that kill it with SIGKILL. Requests are signed with the first-start
 * administrator's AK/SK, fixed through OPENCTS_ADMIN_ACCESS_KEY/SECRET_KEY.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseCredentialsFile, signRequest } from '../../src/auth/index.js'

/** The compiled CLI, in the same build folder as this compiled helper. */
export const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url))
export const ADMIN_ENV = {
  OPENCTS_ADMIN_ACCESS_KEY: 'CRASHTESTACCESSKEY01',
  OPENCTS_ADMIN_SECRET_KEY: 'crash-test-secret-key-0123456789',
}
export const WAIT_MS = 15_000

export interface ServerProcess {
  readonly child: ChildProcessWithoutNullStreams
  readonly url: string
}

const children = new Set<ChildProcessWithoutNullStreams>()

/** Kills every server still running (call from `after`). */
export function killAllServers(): void {
  for (const child of children) child.kill('SIGKILL')
}

/** Fetch signed with the administrator's AK/SK (SDK-HMAC-SHA256); a body is sent as `contentType`. */
export function signedFetch(
  url: string,
  init: { method?: string; body?: string; contentType?: string } = {},
): Promise<Response> {
  const method = init.method ?? 'GET'
  const headers: Record<string, string> =
    init.body === undefined ? {} : { 'content-type': init.contentType ?? 'application/json' }
  const signature = signRequest({
    method,
    url: new URL(url),
    headers,
    ...(init.body === undefined ? {} : { body: init.body }),
    accessKeyId: ADMIN_ENV.OPENCTS_ADMIN_ACCESS_KEY,
    secretKey: ADMIN_ENV.OPENCTS_ADMIN_SECRET_KEY,
    now: Date.now(),
  })
  return fetch(url, {
    method,
    headers: { ...headers, ...signature },
    ...(init.body === undefined ? {} : { body: init.body }),
    signal: AbortSignal.timeout(WAIT_MS),
  })
}

/** The project the first start created, from the credentials file it wrote. */
export function adminProject(dataDir: string): string {
  const profile = parseCredentialsFile(readFileSync(join(dataDir, 'credentials'), 'utf8')).get(
    'default',
  )
  const id = profile?.project_id
  assert.ok(id !== undefined, 'the first start wrote the credentials file')
  return id
}

/** Starts `opencts serve --port 0` and resolves with the URL it prints; fails after 15 s. */
export function serve(
  dataDir: string,
  env: Readonly<Record<string, string>> = {},
): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [MAIN, 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'silent'],
    { env: { PATH: process.env.PATH ?? '', ...ADMIN_ENV, ...env } },
  )
  children.add(child)
  child.on('exit', () => children.delete(child))
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`serve printed no URL within ${WAIT_MS} ms: ${out} ${err}`))
    }, WAIT_MS)
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk))
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      const match = /OpenCTS listening on (http:\/\/\S+)/.exec(out)
      if (match?.[1] !== undefined) {
        clearTimeout(timer)
        resolve({ child, url: match[1] })
      }
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`serve exited (${code ?? signal}) before listening: ${out} ${err}`))
    })
  })
}

/** SIGKILLs the server and waits (bounded) until it is gone. */
export async function crash(server: ServerProcess): Promise<void> {
  const gone = new Promise<NodeJS.Signals | null>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not die')), WAIT_MS)
    server.child.on('exit', (_code, signal) => {
      clearTimeout(timer)
      resolve(signal)
    })
  })
  assert.ok(server.child.kill('SIGKILL'))
  assert.equal(await gone, 'SIGKILL')
}
