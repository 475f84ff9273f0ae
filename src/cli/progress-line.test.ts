/**
 * Tests of the ingest progress line: drawn only on a terminal, throttled, erased when done.
 */
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { describe, it } from 'node:test'
import { ingestProgressText, ProgressLine } from './progress-line.js'

function sink(): { stream: Writable; written: string[] } {
  const written: string[] = []
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      written.push(chunk.toString())
      done()
    },
  })
  return { stream, written }
}

describe('ProgressLine', () => {
  it('draws nothing when the stream is not a terminal', () => {
    const { stream, written } = sink()
    const line = new ProgressLine(stream, false, () => 0)
    line.update('x')
    line.done()
    assert.deepEqual(written, [])
  })

  it('redraws in place at most every 100 ms and erases the line when done', () => {
    const { stream, written } = sink()
    let now = 1000
    const line = new ProgressLine(stream, true, () => now)
    line.update('a')
    now += 50
    line.update('b')
    now += 60
    line.update('c')
    line.done()
    assert.deepEqual(written, ['\r\u001b[Ka', '\r\u001b[Kc', '\r\u001b[K'])
  })
})

describe('ingestProgressText', () => {
  it('shows the count, the share of the input read and the rate', () => {
    assert.equal(
      ingestProgressText(12_000, 450, 1000, 2000),
      'ingest: 12,000 traces stored (45% of the input), 6,000/s',
    )
    assert.equal(ingestProgressText(5, 0, undefined, 0), 'ingest: 5 traces stored')
  })
})
