/**
 * Tests of batching: at most N traces and under the byte limit per request body.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { InputTrace } from './read-traces.js'
import { batchTraces, type BatchLimits, type TraceBatch } from './trace-batches.js'

function input(count: number, pad = 0): InputTrace[] {
  return Array.from({ length: count }, (_, i) => ({
    value: { trace_name: `t${i}`, pad: 'x'.repeat(pad) },
    line: i + 1,
  }))
}

async function batches(traces: InputTrace[], limits: BatchLimits): Promise<TraceBatch[]> {
  const out: TraceBatch[] = []
  for await (const batch of batchTraces(traces, limits)) out.push(batch)
  return out
}

describe('batchTraces', () => {
  it('cuts at the trace count and keeps positions and lines', async () => {
    const out = await batches(input(2500), { maxTraces: 1000, maxBytes: 12 * 1024 * 1024 })
    assert.deepEqual(
      out.map((b) => [b.count, b.firstIndex, b.lines[0]]),
      [
        [1000, 0, 1],
        [1000, 1000, 1001],
        [500, 2000, 2001],
      ],
    )
    const body = JSON.parse(out[2]?.body ?? '') as { traces: { trace_name: string }[] }
    assert.equal(body.traces.length, 500)
    assert.equal(body.traces[0]?.trace_name, 't2000')
  })

  it('keeps every body under the byte limit', async () => {
    const maxBytes = 10_000
    const out = await batches(input(50, 900), { maxTraces: 1000, maxBytes })
    assert.ok(out.length > 1)
    for (const batch of out)
      assert.ok(Buffer.byteLength(batch.body) < maxBytes, `${batch.body.length}`)
    assert.equal(
      out.reduce((sum, b) => sum + b.count, 0),
      50,
    )
  })

  it('sends a trace larger than the limit alone', async () => {
    const traces = [...input(1), { value: { big: 'y'.repeat(5000) }, line: 2 }, ...input(1)]
    const out = await batches(traces, { maxTraces: 1000, maxBytes: 1000 })
    assert.deepEqual(
      out.map((b) => b.count),
      [1, 1, 1],
    )
  })

  it('yields nothing for no traces', async () => {
    assert.deepEqual(await batches([], { maxTraces: 10, maxBytes: 1000 }), [])
  })
})
