/**
 * Test helper for the crash-round tests: `opencts serve` as a child process whose whole output is
 * kept (a recovering engine may say so on stdout/stderr), signed POSTs of any media type, traces
 * whose stored form equals what was sent, and reading a project's traces back over the HTTP API
 * only (paging a time window, or one trace id), so the tests hold for any embedded engine.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { ADMIN_ENV, MAIN, WAIT_MS, signedFetch } from './server-process.js'

export interface LoggedServer {
  readonly child: ChildProcessWithoutNullStreams
  readonly url: string
  /** Everything the server wrote on stdout and stderr so far. */
  output(): string
}

const children = new Set<ChildProcessWithoutNullStreams>()

/** Kills every server of this helper still running (call from `after`). */
export function killLoggedServers(): void {
  for (const child of children) child.kill('SIGKILL')
}

/**
 * Starts `opencts serve --port 0` at log level `warn` (what an engine reports about recovery,
 * not every request) and resolves with its URL; fails after WAIT_MS or if it exits first.
 */
export function serveLogged(dataDir: string): Promise<LoggedServer> {
  const child = spawn(
    process.execPath,
    [MAIN, 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'],
    { env: { PATH: process.env.PATH ?? '', ...ADMIN_ENV } },
  )
  children.add(child)
  child.on('exit', () => children.delete(child))
  let text = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`serve printed no URL within ${WAIT_MS} ms: ${text}`))
    }, WAIT_MS)
    const onData = (): void => {
      const match = /OpenCTS listening on (http:\/\/\S+)/.exec(text)
      if (match?.[1] === undefined) return
      clearTimeout(timer)
      child.stdout.off('data', onData)
      resolve({ child, url: match[1], output: () => text })
    }
    child.stdout.on('data', onData)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`serve exited (${code ?? signal}) before listening: ${text}`))
    })
  })
}

/** SIGKILLs the server (no-op when it is already gone) and waits, bounded, until it is. */
export async function killServer(server: LoggedServer): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return
  const gone = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not die')), WAIT_MS)
    server.child.on('exit', () => {
      clearTimeout(timer)
      resolve()
    })
  })
  server.child.kill('SIGKILL')
  await gone
}

/** A trace as sent: every value already in its stored form, so what is read back must equal it. */
export type SentTrace = Readonly<Record<string, unknown>> & { readonly trace_id: string }

const SERVICES = ['IMS', 'ECS', 'VPC', 'OBS'] as const
const NAMES = ['createImage', 'deleteServer', 'updateVpc', 'putObject'] as const
const RATINGS = ['normal', 'normal', 'normal', 'warning', 'incident'] as const

/** `count` traces with times in [from, from + span) ms; `random` drives every choice. */
export function makeTraces(
  count: number,
  from: number,
  span: number,
  random: () => number,
): SentTrace[] {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T
  return Array.from({ length: count }, (_, i) => {
    const id = randomUUID()
    return {
      trace_id: id,
      time: from + Math.floor(random() * span),
      service_type: pick(SERVICES),
      resource_type: 'thing',
      resource_id: `res-${id.slice(0, 8)}`,
      resource_name: `name ${i}`,
      trace_name: pick(NAMES),
      trace_type: 'ApiCall',
      trace_rating: pick(RATINGS),
      code: '200',
      // Stored as given (a string); its length varies so pages hold traces of different sizes.
      request: JSON.stringify({ i, pad: 'p'.repeat(Math.floor(random() * 400)) }),
      user: { id: 'u1', name: 'alice', domain: { id: 'd1', name: 'acme' } },
    }
  })
}

/** The part of a stored trace that was sent (what must be kept exactly). */
export function sentPart(
  stored: Record<string, unknown>,
  sent: SentTrace,
): Record<string, unknown> {
  return Object.fromEntries(Object.keys(sent).map((key) => [key, stored[key]]))
}

interface TracePage {
  readonly traces: Record<string, unknown>[]
  readonly meta_data: { readonly marker: string | null }
}

/**
 * Every trace of `project` with from < time < to, paging 200 at a time (bounded to `maxPages`),
 * in the order the pages return them (duplicates kept: the caller asserts there are none).
 */
export async function readWindow(
  url: string,
  project: string,
  from: number,
  to: number,
  maxPages: number,
): Promise<Record<string, unknown>[]> {
  const all: Record<string, unknown>[] = []
  let next: string | null = null
  for (let page = 0; page < maxPages; page++) {
    const query = `limit=200&from=${from}&to=${to}${next === null ? '' : `&next=${next}`}`
    const response = await signedFetch(`${url}/v3/${project}/traces?${query}`)
    assert.equal(response.status, 200, await response.clone().text())
    const body = (await response.json()) as TracePage
    all.push(...body.traces)
    next = body.meta_data.marker
    if (next === null) return all
  }
  assert.fail(`more than ${maxPages} pages of traces in ${project} between ${from} and ${to}`)
}

/** The traces a `trace_id` query answers (the test asserts there is exactly one). */
export async function readById(
  url: string,
  project: string,
  traceId: string,
): Promise<Record<string, unknown>[]> {
  const response = await signedFetch(`${url}/v3/${project}/traces?trace_id=${traceId}`)
  assert.equal(response.status, 200, await response.clone().text())
  return ((await response.json()) as TracePage).traces
}
