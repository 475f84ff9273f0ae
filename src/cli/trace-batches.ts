/**
 * @module cli/trace-batches
 * Groups input traces into ingest request bodies `{"traces":[...]}` of at most `maxTraces` traces
 * and fewer than `maxBytes` UTF-8 bytes (the API accepts 1,000 traces and 12 MB). A single trace
 * too large for any body is sent alone, so the server names what is wrong with it.
 */
import type { InputTrace } from './read-traces.js'

export interface TraceBatch {
  /** The request body. */
  readonly body: string
  readonly count: number
  /** 0-based position of the batch's first trace in the whole input. */
  readonly firstIndex: number
  /** Input line of each trace of the batch (null inside a multi-line document). */
  readonly lines: readonly (number | null)[]
}

export interface BatchLimits {
  readonly maxTraces: number
  readonly maxBytes: number
}

const PREFIX = '{"traces":['
const SUFFIX = ']}'

export async function* batchTraces(
  traces: AsyncIterable<InputTrace> | Iterable<InputTrace>,
  limits: BatchLimits,
): AsyncGenerator<TraceBatch, void, undefined> {
  let items: string[] = []
  let lines: (number | null)[] = []
  let bytes = PREFIX.length + SUFFIX.length
  let firstIndex = 0
  const flush = (): TraceBatch => {
    const batch = {
      body: PREFIX + items.join(',') + SUFFIX,
      count: items.length,
      firstIndex,
      lines,
    }
    firstIndex += items.length
    items = []
    lines = []
    bytes = PREFIX.length + SUFFIX.length
    return batch
  }
  for await (const trace of traces) {
    const json = JSON.stringify(trace.value)
    const size = Buffer.byteLength(json)
    // `+ 1`: the comma before it.
    if (
      items.length > 0 &&
      (items.length >= limits.maxTraces || bytes + 1 + size >= limits.maxBytes)
    )
      yield flush()
    bytes += size + (items.length > 0 ? 1 : 0)
    items.push(json)
    lines.push(trace.line)
  }
  if (items.length > 0) yield flush()
}
