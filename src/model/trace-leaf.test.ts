import assert from 'node:assert/strict'
import { it } from 'node:test'
import { makeTrace } from '../../test/helpers/make-trace.js'
import type { TraceRecord } from './trace.js'
import {
  CanonicalJsonError,
  TRACE_LEAF_VERSION,
  canonicalJson,
  leafTextOf,
  parseTraceLeaf,
  traceDocument,
  traceLeaf,
} from './trace-leaf.js'

it('sorts keys by UTF-16 code units at every depth, without whitespace', () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [3, { z: 0, y: 1 }], c: null } }),
    '{"a":{"c":null,"d":[3,{"y":1,"z":0}]},"b":1}',
  )
  // RFC 8785 §3.2.3: "\u20ac" (€) sorts before "\ud83d\ude00" (😀) in UTF-16, after it in code points.
  assert.equal(
    canonicalJson({ '😀': 1, '€': 2, é: 3, a: 4, '\r': 5 }),
    '{"\\r":5,"a":4,"é":3,"€":2,"😀":1}',
  )
})

it('writes numbers as ES does and rejects what JSON cannot carry', () => {
  assert.equal(
    canonicalJson([0, -0, 1e21, 1e-7, Number('333333333.33333329'), 4.5, -1]),
    '[0,0,1e+21,1e-7,333333333.3333333,4.5,-1]',
  )
  for (const bad of [
    NaN,
    Infinity,
    undefined,
    () => 1,
    1n,
    Symbol('x'),
    new Date(0),
    { a: undefined },
  ])
    assert.throws(() => canonicalJson(bad), CanonicalJsonError)
  assert.throws(() => canonicalJson('\ud800'), CanonicalJsonError)
})

it('escapes strings as JSON.stringify does', () => {
  assert.equal(canonicalJson('a"\\\n\u0001\u007f€'), '"a\\"\\\\\\n\\u0001\u007f€"')
})

it('encodes every stored field, absent as null, with the version', () => {
  const trace = makeTrace({ trace_id: 't1', time: 1000 })
  const text = traceLeaf(trace).toString('utf8')
  const parsed = JSON.parse(text) as Record<string, unknown>
  assert.equal(parsed._leaf_version, TRACE_LEAF_VERSION)
  assert.deepEqual(Object.keys(parsed).sort(), [...Object.keys(trace), '_leaf_version'].sort())
  assert.ok(
    text.startsWith('{"_leaf_version":1,"access_key_id":null,"api_version":"v2","code":"201"'),
  )
  assert.deepEqual(parseTraceLeaf(traceLeaf(trace)), trace)
})

it('changes the leaf when any field changes', () => {
  const trace = makeTrace({ trace_id: 't1', time: 1000 })
  const base = traceLeaf(trace)
  for (const key of Object.keys(trace) as (keyof TraceRecord)[]) {
    const value = trace[key]
    const other =
      value === null
        ? 'x'
        : typeof value === 'number'
          ? value + 1
          : typeof value === 'boolean'
            ? !value
            : typeof value === 'string'
              ? `${value}x`
              : { ...value, extra: 1 }
    const leaf = traceLeaf({ ...trace, [key]: other })
    assert.notDeepEqual(leaf, base, key)
  }
  assert.notDeepEqual(traceLeaf({ ...trace, user: { ...trace.user, name: 'bob' } }), base)
})

it('parseTraceLeaf rejects unknown versions, extra fields and non-canonical bytes', () => {
  const leaf = traceLeaf(makeTrace({ trace_id: 't1', time: 1000 }))
  const text = leaf.toString('utf8')
  assert.throws(
    () => parseTraceLeaf(Buffer.from(text.replace('"_leaf_version":1', '"_leaf_version":2'))),
    /_leaf_version is 2, want 1/,
  )
  assert.throws(() => parseTraceLeaf(Buffer.from(text.replace('{', '{"zz":1,'))), /unknown \[zz\]/)
  assert.throws(() => parseTraceLeaf(Buffer.from(`${text} `)), /canonical/)
  assert.throws(() => parseTraceLeaf(Buffer.from(`${text}x`)), /not UTF-8 JSON/)
  assert.throws(() => parseTraceLeaf(Buffer.from([0xff])), /not UTF-8 JSON/)
})

it('the fast leaf encoder gives exactly the canonical JSON of the leaf object', () => {
  const trace: TraceRecord = makeTrace({
    user: { name: 'ärger', id: 'u1', domain: { name: 'acme', id: 'd1' }, '😀': [1, 'x'] },
    request: '{"name":"\u2028"}',
    message: null,
    read_only: false,
  })
  const fields = Object.fromEntries(Object.entries(trace))
  assert.deepEqual(
    traceLeaf(trace),
    Buffer.from(canonicalJson({ _leaf_version: TRACE_LEAF_VERSION, ...fields }), 'utf8'),
  )
})

it('the document is the canonical JSON of the fields, also where the fast path steps aside', () => {
  const odd: TraceRecord[] = [
    // Array-index keys: objects keep them in numeric order, JCS sorts them as strings.
    makeTrace({ user: { '10': 'a', '9': 'b', name: 'x' } }),
    makeTrace({ user: { id: 'u', nested: { '2': [{ b: 1, a: 2 }], '1': null } } }),
    makeTrace({ total_time: 1e21, content_length: 0 }),
    makeTrace({ user: Object.assign(Object.create(null) as object, { b: 1, a: 2 }) }),
  ]
  for (const trace of odd) {
    const fields = Object.fromEntries(Object.entries(trace))
    assert.equal(traceDocument(trace), canonicalJson(fields))
    assert.equal(leafTextOf(traceDocument(trace)), traceLeaf(trace).toString('utf8'))
  }
  assert.throws(() => traceDocument(makeTrace({ total_time: Number.NaN })), CanonicalJsonError)
  assert.throws(() => traceDocument(makeTrace({ resource_name: 'a\ud800' })), CanonicalJsonError)
  assert.throws(
    () => traceDocument(makeTrace({ user: { name: new Date(0) } as never })),
    CanonicalJsonError,
  )
})
