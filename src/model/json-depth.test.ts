import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MAX_JSON_DEPTH, findDeepNesting } from './json-depth.js'

/** `levels` nested arrays, built without recursion. */
function nested(levels: number): unknown {
  let value: unknown = 1
  for (let i = 0; i < levels; i++) value = [value]
  return value
}

describe('findDeepNesting', () => {
  it('counts arrays and objects, the outermost as level 1', () => {
    assert.equal(findDeepNesting(1), undefined)
    assert.equal(findDeepNesting('[[[['), undefined)
    assert.equal(findDeepNesting(nested(MAX_JSON_DEPTH)), undefined)
    assert.deepEqual(findDeepNesting(nested(MAX_JSON_DEPTH + 1)), {
      path: '',
      depth: MAX_JSON_DEPTH + 1,
    })
    assert.deepEqual(findDeepNesting({ a: [{ b: {} }] }, 3), {
      path: 'a[0].b',
      depth: 4,
    })
    assert.equal(findDeepNesting({ a: [{ b: 1 }], c: [[]] }, 3), undefined)
  })

  it('checks a million levels without recursion, naming the member that holds them', () => {
    const value = { traces: [{ request: nested(1_000_000) }] }
    assert.equal(findDeepNesting(value)?.path, 'traces[0].request')
    assert.equal(findDeepNesting(nested(1_000_000), 64, 'user')?.path, 'user')
  })

  it('shows at most 8 members and quotes keys that are not identifiers', () => {
    let deep: unknown = 1
    for (let i = 0; i < 100; i++) deep = { 'a b': deep }
    assert.equal(
      findDeepNesting(deep)?.path,
      '["a b"]["a b"]["a b"]["a b"]["a b"]["a b"]["a b"]["a b"]…',
    )
  })
})
