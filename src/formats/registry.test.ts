import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { ApiTrace } from '../model/index.js'
import { repoRoot } from '../../test/helpers/repo-root.js'
import { encodeTraceList, encodeTraces, TRACE_FORMATS, traceFormat } from './registry.js'

const dir = join(repoRoot(), 'test', 'fixtures', 'formats')
const traces = JSON.parse(readFileSync(join(dir, 'traces.json'), 'utf8')) as ApiTrace[]
const context = { projectId: 'p-0a1b2c', productVersion: '0.1.0' }

describe('trace formats: golden files', () => {
  for (const format of TRACE_FORMATS) {
    it(`${format.name} writes test/fixtures/formats/golden.${format.name}`, () => {
      const expected = readFileSync(join(dir, `golden.${format.name}`), 'utf8')
      assert.equal(encodeTraceList(format, traces, context), expected)
    })
  }

  it('a stream of records is the same text as the whole list', async () => {
    for (const format of TRACE_FORMATS) {
      let text = ''
      for await (const piece of encodeTraces(format, traces, context)) text += piece
      assert.equal(text, encodeTraceList(format, traces, context), format.name)
    }
  })

  it('an empty list is a well-formed empty document', () => {
    for (const format of TRACE_FORMATS) {
      const text = encodeTraceList(format, [], context)
      if (format.framing === 'array') assert.deepEqual(JSON.parse(text), [])
      else if (format.framing === 'csv') assert.equal(text, format.header)
      else assert.equal(text, '')
    }
  })

  it('every JSON record parses back, and names an unknown format undefined', () => {
    for (const format of TRACE_FORMATS.filter((f) => !['csv', 'cef'].includes(f.name)))
      for (const trace of traces) JSON.parse(format.record(trace, context))
    assert.equal(traceFormat('xml'), undefined)
  })
})
