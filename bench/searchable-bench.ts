/**
 * @module bench/searchable-bench
 * Time-to-searchable: from the start of a single-trace POST until GET ?trace_id= returns the trace
 * (polled without pause, at most 5 s per trace), and the POST acknowledgement time on the way.
 */
import { latency, type Latency } from './percentiles.js'
import { ProgressBar } from './progress-bar.js'
import { TraceGenerator } from './trace-generator.js'

export interface SearchableResult {
  readonly acknowledged: Latency
  readonly searchable: Latency
  readonly samples: number
}

export async function benchSearchable(
  url: string,
  token: string,
  projectId: string,
  samples: number,
): Promise<SearchableResult> {
  const generator = new TraceGenerator(3)
  const base = `${url}/v3/${projectId}/traces`
  const acknowledged: number[] = []
  const searchable: number[] = []
  const bar = new ProgressBar('time-to-searchable', samples)
  for (let i = 0; i < samples; i++) {
    const trace = generator.next(Date.now() - 1000)
    const started = performance.now()
    const response = await fetch(base, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': token },
      body: JSON.stringify({ traces: [trace] }),
      signal: AbortSignal.timeout(30_000),
    })
    await response.text()
    if (response.status !== 201) throw new Error(`ingest answered ${response.status}`)
    acknowledged.push(performance.now() - started)
    const deadline = started + 5000
    for (;;) {
      const answer = await fetch(`${base}?trace_id=${String(trace.trace_id)}`, {
        headers: { 'x-auth-token': token },
        signal: AbortSignal.timeout(30_000),
      })
      const body = (await answer.json()) as { traces?: unknown[] }
      if (body.traces?.length === 1) break
      if (performance.now() > deadline)
        throw new Error(`trace ${String(trace.trace_id)} not searchable within 5 s`)
    }
    searchable.push(performance.now() - started)
    bar.update(i + 1)
  }
  bar.done()
  return { acknowledged: latency(acknowledged), searchable: latency(searchable), samples }
}
