/**
 * The one commit-then-publish path (src/ingest/commit.ts): subscribers hear of a trace only after
 * its commit, once, and never of a change that rolled back.
 */
import assert from 'node:assert/strict'
import { after, it } from 'node:test'
import { commitChange, commitTraces, Publisher } from '../src/ingest/index.js'
import type { TraceRecord } from '../src/model/index.js'
import { openStore } from '../src/store/open-store.js'
import { makeTrace } from './helpers/make-trace.js'

const store = await openStore({ url: 'sqlite::memory:' })
after(() => store.close())

function recording(): { publisher: Publisher; heard: string[] } {
  const publisher = new Publisher()
  const heard: string[] = []
  publisher.subscribe((traces) => {
    for (const t of traces) heard.push(t.trace_id)
  })
  return { publisher, heard }
}

it('publishes the traces a batch newly stored, after they are readable, each once', async () => {
  const { publisher, heard } = recording()
  const readable: boolean[] = []
  publisher.subscribe((traces) => {
    const first = traces[0]
    if (first !== undefined)
      void store.traces
        .get(first.project_id, first.trace_id)
        .then((t) => readable.push(t !== undefined))
  })
  const a = makeTrace()
  const b = makeTrace()
  const result = await commitTraces({ traces: store.traces, publisher }, [a, b, a])
  assert.deepEqual(result.inserted.sort(), [a.trace_id, b.trace_id].sort())
  assert.deepEqual(heard, [a.trace_id, b.trace_id])
  // A re-report stores nothing and publishes nothing.
  await commitTraces({ traces: store.traces, publisher }, [b])
  assert.deepEqual(heard, [a.trace_id, b.trace_id])
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(readable, [true])
})

it('publishes a change’s audit traces after the change, and nothing when it throws', async () => {
  const { publisher, heard } = recording()
  const audit: TraceRecord[] = []
  const order: string[] = []
  publisher.subscribe(() => order.push('published'))
  await commitChange(
    publisher,
    async () => {
      audit.push(makeTrace())
      await Promise.resolve()
      order.push('committed')
    },
    () => audit,
  )
  assert.deepEqual(order, ['committed', 'published'])
  assert.deepEqual(heard, [audit[0]?.trace_id])
  await assert.rejects(
    commitChange(
      publisher,
      () => Promise.reject(new Error('rolled back')),
      () => [makeTrace()],
    ),
    /rolled back/,
  )
  assert.equal(heard.length, 1)
})
