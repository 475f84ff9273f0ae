/**
 * @module bench/notify-bench
 * Ingest-to-receipt latency of key-event notifications: from the start of a single-trace POST
 * until a webhook receiver on loopback has the signed delivery of that trace (at most 5 s per
 * trace), one trace at a time, against `opencts serve` in its own process. Baseline: the POST's
 * 201 on the way.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { latency, type Latency } from './percentiles.js'
import { ProgressBar } from './progress-bar.js'
import { TraceGenerator } from './trace-generator.js'

export interface NotifyResult {
  readonly acknowledged: Latency
  readonly received: Latency
  readonly samples: number
}

async function send(url: string, token: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-auth-token': token },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  })
  const text = await response.text()
  if (response.status >= 300) throw new Error(`${url} answered ${response.status}: ${text}`)
  return JSON.parse(text) as unknown
}

export async function benchNotify(
  url: string,
  token: string,
  projectId: string,
  samples: number,
): Promise<NotifyResult> {
  const arrivals = new Map<string, number>()
  const waiting = new Map<string, () => void>()
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const at = performance.now()
      const id = (
        JSON.parse(Buffer.concat(chunks).toString('utf8')) as { trace: { trace_id: string } }
      ).trace.trace_id
      arrivals.set(id, at)
      waiting.get(id)?.()
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  const port = (receiver.address() as AddressInfo).port
  try {
    const base = `${url}/v3/${projectId}`
    const topic = (await send(`${base}/topics`, token, { name: 'bench-notify' })) as {
      topic_urn: string
    }
    await send(`${base}/topics/bench-notify/subscriptions`, token, {
      protocol: 'http',
      endpoint: `http://127.0.0.1:${port}/hook`,
    })
    await send(`${base}/notifications`, token, {
      notification_name: 'bench_notify',
      operation_type: 'customized',
      operations: [{ service_type: 'BENCH', resource_type: 'probe', trace_names: ['notifyProbe'] }],
      topic_id: topic.topic_urn,
    })
    const generator = new TraceGenerator(5)
    const acknowledged: number[] = []
    const received: number[] = []
    const bar = new ProgressBar('ingest-to-receipt', samples)
    for (let i = 0; i < samples; i++) {
      const trace: Record<string, unknown> = {
        ...generator.next(Date.now() - 1000),
        service_type: 'BENCH',
        resource_type: 'probe',
        trace_name: 'notifyProbe',
      }
      const id = String(trace.trace_id)
      const arrived = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no delivery of ${id} within 5 s`)), 5000)
        waiting.set(id, () => {
          clearTimeout(timer)
          resolve()
        })
      })
      const started = performance.now()
      await send(`${base}/traces`, token, { traces: [trace] })
      acknowledged.push(performance.now() - started)
      await arrived
      waiting.delete(id)
      received.push((arrivals.get(id) ?? Number.NaN) - started)
      bar.update(i + 1)
    }
    bar.done()
    return { acknowledged: latency(acknowledged), received: latency(received), samples }
  } finally {
    receiver.closeAllConnections()
    receiver.close()
  }
}
