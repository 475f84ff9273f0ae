import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { traceDocument } from '../model/trace-leaf.js'
import { hashLeavesOffThread } from './leaf-hash-pool.js'
import { documentLeafHash } from './trace-log-hashing.js'

describe('leaf hash pool', () => {
  it('hashes documents handed over as one buffer exactly as on the event loop', async () => {
    const texts = ['', 'plain', 'é ü ß', '中文 ✓', 'emoji 😀 and more 🧾', 'x'.repeat(70_000)]
    const documents = texts.map((text, i) =>
      traceDocument({
        trace_id: `t-${i}`,
        trace_name: text === '' ? 'createImage' : text,
        request: text,
        time: 1_790_000_000_000 + i,
      } as unknown as Parameters<typeof traceDocument>[0]),
    )
    const offThread = await hashLeavesOffThread(documents)
    assert.equal(offThread.length, documents.length)
    documents.forEach((doc, i) =>
      assert.equal(
        offThread[i]?.toString('hex'),
        documentLeafHash(doc).toString('hex'),
        `doc ${i}`,
      ),
    )
    // A batch after it reuses the worker and gets its own answers.
    const again = await hashLeavesOffThread(documents.slice(2, 4))
    assert.deepEqual(
      again.map((h) => h.toString('hex')),
      documents.slice(2, 4).map((d) => documentLeafHash(d).toString('hex')),
    )
  })
})
