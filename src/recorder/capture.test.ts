import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BodyTap } from './capture.js'

describe('recorder body capture', () => {
  it('keeps a body nested too deep to walk as text only', () => {
    const tap = new BodyTap('application/json', 1 << 20)
    const text = '['.repeat(5000) + ']'.repeat(5000)
    tap.push(Buffer.from(text))
    assert.equal(tap.json(), undefined)
    assert.equal(tap.text(), text)
    const ok = new BodyTap('application/json', 1 << 20)
    ok.push(Buffer.from('{"a":[[1]]}'))
    assert.deepEqual(ok.json(), { a: [[1]] })
  })
})
