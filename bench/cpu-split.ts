/**
 * @module bench/cpu-split
 * Where the CPU of ingest goes, per trace. Preferred: the server's own figures — an ingest worker
 * pool may publish µs per trace of each of its steps on `GET /metrics` as
 * `opencts_ingest_step_microseconds_per_trace{step="parse"} 12.3` (any metric whose name starts
 * with `opencts_ingest_` and ends with `microseconds_per_trace`, one line per `step` label). When
 * the server has none, the steps of today's path are timed in this process on generator batches
 * of 1,000 traces: `JSON.parse` of the body, `normalizeTrace`, `traceDocument` (the canonical
 * stored document) and the leaf hash of that document (SHA-256, RFC 6962 leaf).
 */
import { randomUUID } from 'node:crypto'
import { documentLeafHash } from '../src/log/trace-log-hashing.js'
import { normalizeTrace, type TraceRecord } from '../src/model/index.js'
import { traceDocument } from '../src/model/trace-leaf.js'
import { makeBodies } from './ingest-bench.js'

export interface CpuStep {
  readonly step: string
  readonly microsPerTrace: number
}

export interface CpuSplit {
  /** `server`: published by the server's ingest pool; `in-process`: timed here. */
  readonly source: 'server' | 'in-process'
  readonly steps: readonly CpuStep[]
}

const STEP_LINE =
  /^(opencts_ingest_\w*microseconds_per_trace)\{[^}]*\bstep="([^"]+)"[^}]*\}\s+([0-9.eE+-]+)\s*$/

/** The per-step figures of a Prometheus text, or an empty list. */
export function parseStepMetrics(text: string): CpuStep[] {
  const steps: CpuStep[] = []
  for (const line of text.split('\n')) {
    const match = STEP_LINE.exec(line.trim())
    const value = Number(match?.[3])
    if (match?.[2] !== undefined && Number.isFinite(value))
      steps.push({ step: match[2], microsPerTrace: value })
  }
  return steps
}

/** The server's step figures from `GET /metrics`, or an empty list when it publishes none. */
export async function serverSteps(url: string): Promise<CpuStep[]> {
  try {
    const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })
    return response.status === 200 ? parseStepMetrics(await response.text()) : []
  } catch {
    return []
  }
}

/** Times each step of today's path on `batches` generator batches of 1,000 traces, one core. */
export function inProcessSteps(
  batches = 20,
  projectId = '0123456789abcdef0123456789abcdef',
): CpuStep[] {
  const bodies = makeBodies(batches * 1000, 1000)
  const total = { parse: 0, normalize: 0, document: 0, hash: 0 }
  let traces = 0
  // The first two batches warm the JIT and are not counted.
  for (const [index, body] of bodies.entries()) {
    let started = performance.now()
    const inputs = (JSON.parse(body) as { traces: unknown[] }).traces
    const parse = performance.now() - started
    started = performance.now()
    const records: TraceRecord[] = []
    for (const input of inputs) {
      const result = normalizeTrace(input, { projectId, now: Date.now(), newId: randomUUID })
      if (!result.ok) throw new Error(`generated trace invalid: ${result.problem.message}`)
      records.push(result.trace)
    }
    const normalize = performance.now() - started
    started = performance.now()
    const documents = records.map(traceDocument)
    const document = performance.now() - started
    started = performance.now()
    for (const text of documents) documentLeafHash(text)
    const hash = performance.now() - started
    if (index < 2) continue
    total.parse += parse
    total.normalize += normalize
    total.document += document
    total.hash += hash
    traces += inputs.length
  }
  const per = (ms: number): number => (ms * 1000) / Math.max(1, traces)
  return [
    { step: 'JSON.parse', microsPerTrace: per(total.parse) },
    { step: 'normalizeTrace', microsPerTrace: per(total.normalize) },
    { step: 'traceDocument', microsPerTrace: per(total.document) },
    { step: 'leaf hash', microsPerTrace: per(total.hash) },
  ]
}

/** The server's split when it publishes one, otherwise the in-process split. */
export async function cpuSplit(serverUrl: string | undefined): Promise<CpuSplit> {
  const published = serverUrl === undefined ? [] : await serverSteps(serverUrl)
  if (published.length > 0) return { source: 'server', steps: published }
  return { source: 'in-process', steps: inProcessSteps() }
}
