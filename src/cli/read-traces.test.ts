/**
 * Tests of the ingest input reader: JSON lines, arrays, `{"traces": [...]}` documents, and errors
 * that name the line.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CliFailure } from './cli-errors.js'
import { readTraces, splitLines, type InputTrace } from './read-traces.js'

async function* chunks(...parts: (string | Buffer)[]): AsyncGenerator<string | Buffer> {
  for (const part of parts) yield part
}

async function read(...parts: (string | Buffer)[]): Promise<InputTrace[]> {
  const out: InputTrace[] = []
  for await (const trace of readTraces(chunks(...parts))) out.push(trace)
  return out
}

describe('splitLines', () => {
  it('splits across chunk borders, strips CR and keeps a last line without newline', async () => {
    const lines: string[] = []
    for await (const line of splitLines(chunks('a\r\nb', 'c\n\nd'))) lines.push(line)
    assert.deepEqual(lines, ['a', 'bc', '', 'd'])
  })

  it('decodes a UTF-8 character split between two chunks', async () => {
    const bytes = Buffer.from('née\n')
    const lines: string[] = []
    for await (const line of splitLines(chunks(bytes.subarray(0, 2), bytes.subarray(2))))
      lines.push(line)
    assert.deepEqual(lines, ['née'])
  })
})

describe('readTraces', () => {
  it('reads JSON lines with their line numbers, skipping blank lines', async () => {
    const traces = await read('{"trace_name":"a"}\n\n  \n{"trace_name":"b"}\r\n{"trace_name":"c"}')
    assert.deepEqual(traces, [
      { value: { trace_name: 'a' }, line: 1 },
      { value: { trace_name: 'b' }, line: 4 },
      { value: { trace_name: 'c' }, line: 5 },
    ])
  })

  it('reads a pretty-printed JSON array', async () => {
    const traces = await read('[\n  {"trace_name": "a"},\n  {"trace_name": "b"}\n]\n')
    assert.deepEqual(
      traces.map((t) => t.value),
      [{ trace_name: 'a' }, { trace_name: 'b' }],
    )
    assert.equal(traces[0]?.line, null)
  })

  it('reads a {"traces": [...]} document, pretty-printed or on one line', async () => {
    const pretty = await read('\uFEFF{\n "traces": [\n  {"trace_name": "a"}\n ]\n}')
    assert.deepEqual(pretty, [{ value: { trace_name: 'a' }, line: null }])
    const oneLine = await read('{"traces":[{"trace_name":"a"},{"trace_name":"b"}]}\n')
    assert.deepEqual(
      oneLine.map((t) => [t.value, t.line]),
      [
        [{ trace_name: 'a' }, 1],
        [{ trace_name: 'b' }, 1],
      ],
    )
  })

  it('names the line of invalid JSON in JSON lines', async () => {
    await assert.rejects(read('{"a":1}\n{"a":2}\n{"a":\n'), (error: unknown) => {
      assert.ok(error instanceof CliFailure)
      assert.match(error.message, /^line 3 is not valid JSON/)
      return true
    })
  })

  it('rejects a line or array item that is not an object', async () => {
    await assert.rejects(read('{"a":1}\n42\n'), /line 2: expected a trace object, got a number/)
    await assert.rejects(read('[{"a":1}, "x"]'), /line 1: trace 2 must be an object, got a string/)
  })

  it('says when the input is neither JSON lines nor a JSON document', async () => {
    await assert.rejects(read('[\n{"a":1},\n'), /neither JSON lines nor a JSON document/)
  })

  it('yields nothing for an empty input', async () => {
    assert.deepEqual(await read(''), [])
    assert.deepEqual(await read('\n\n'), [])
  })
})
