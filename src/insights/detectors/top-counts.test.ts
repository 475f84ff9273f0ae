import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decayInto, decayTimes, type Counts } from './top-counts.js'

describe('decayTimes', () => {
  it('is decayInto with empty minutes, repeated, bit for bit and in key order', () => {
    let seed = 7
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed / 2 ** 31
    }
    for (let round = 0; round < 200; round++) {
      const table: Counts = {}
      const size = Math.floor(random() * 25)
      for (let i = 0; i < size; i++) table[`v${Math.floor(random() * 40)}`] = random() * 30
      const alpha = 0.005 + random() * 0.5
      const times = Math.floor(random() * 200)
      const once = { ...table }
      decayTimes(once, alpha, times)
      const repeated = { ...table }
      for (let i = 0; i < times; i++) decayInto(repeated, {}, alpha, 20)
      assert.equal(JSON.stringify(once), JSON.stringify(repeated), `round ${round}`)
    }
  })
})
