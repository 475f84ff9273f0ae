/**
 * @module bench/server-process
 * Runs `opencts serve` (the compiled CLI) as a child process on 127.0.0.1, port 0, so the server has
 * its own event loop and the benchmark client does not share it. Startup and shutdown are bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { passwordSignInBody } from '../src/auth/credentials-file.js'

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url))

/** The administrator the benchmark's servers are started with (first start of their data folder). */
export const BENCH_ADMIN = {
  account: 'opencts',
  user: 'admin',
  password: 'bench-admin-password',
  projectId: '0123456789abcdef0123456789abcdef',
} as const

export interface ServerProcess {
  readonly url: string
  /** A token of the administrator for BENCH_ADMIN.projectId (`X-Auth-Token`). */
  readonly token: string
  readonly child: ChildProcess
  /** SIGTERM (graceful close), SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>
}

/**
 * `env`: extra `OPENCTS_*` settings of the server (e.g. `OPENCTS_MERKLE_LOG`); the `OPENCTS_*`
 * variables of the bench's own environment reach it too (to compare settings, e.g.
 * `OPENCTS_INSIGHTS=false`), below `env`.
 */
export function startServerProcess(
  dataDir: string,
  timeoutMs = 60_000,
  env: Readonly<Record<string, string>> = {},
): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [
      MAIN,
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--log-level',
      'warn',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        PATH: process.env.PATH ?? '',
        ...Object.fromEntries(
          Object.entries(process.env).filter(([name]) => name.startsWith('OPENCTS_')),
        ),
        OPENCTS_ADMIN_PASSWORD: BENCH_ADMIN.password,
        OPENCTS_ADMIN_PROJECT_ID: BENCH_ADMIN.projectId,
        ...env,
      },
    },
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async (stopTimeoutMs = 30_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs)
    await exited
    clearTimeout(timer)
  }
  return new Promise((resolve, reject) => {
    let out = ''
    let listening = false
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`opencts serve printed no URL within ${timeoutMs} ms: ${out}`))
    }, timeoutMs)
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      // Once listening, later output (the request log) is only drained: one sign-in, not one per chunk.
      if (listening) return
      out += chunk
      const match = /OpenCTS listening on (http:\/\/\S+)/.exec(out)
      const url = match?.[1]
      if (url !== undefined) {
        listening = true
        clearTimeout(timer)
        signIn(url).then(
          (token) => resolve({ url, token, child, stop }),
          (error: unknown) => {
            child.kill('SIGKILL')
            reject(error instanceof Error ? error : new Error(String(error)))
          },
        )
      }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`opencts serve exited (${code ?? signal}) before listening: ${out}`))
    })
  })
}

async function signIn(url: string): Promise<string> {
  const response = await fetch(`${url}/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(passwordSignInBody(BENCH_ADMIN)),
    signal: AbortSignal.timeout(30_000),
  })
  const token = response.headers.get('x-subject-token')
  if (response.status !== 201 || token === null)
    throw new Error(`sign-in to ${url} answered ${response.status}: ${await response.text()}`)
  return token
}
