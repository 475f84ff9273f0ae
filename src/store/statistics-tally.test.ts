/** The statistics tally: top groups and the folded rest, and the bound on what it keeps. */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { isOpenCtsError } from '../errors/index.js'
import { StatisticsTally, top } from './statistics-tally.js'
import type { StatisticsSpec } from './store.js'

const spec: StatisticsSpec = {
  groupBy: ['user_name'],
  distinct: 'source_ip',
  top: 2,
  buckets: { start: 0, step: 10 },
}

it('keeps the top groups, folds the rest with the union of their distinct values', () => {
  const tally = new StatisticsTally(spec)
  tally.add(['a'], '10.0.0.1', 0, 5)
  tally.add(['b'], '10.0.0.1', 1, 3)
  tally.add(['c'], '10.0.0.2', 1, 1)
  tally.add([null], '10.0.0.2', 2, 1)
  tally.add([null], null, 2, 1)
  assert.deepEqual(tally.result(), {
    total: 11,
    groups: [
      { values: ['a'], count: 5, distinct: 1, buckets: [{ index: 0, count: 5 }] },
      { values: ['b'], count: 3, distinct: 1, buckets: [{ index: 1, count: 3 }] },
    ],
    other: {
      count: 3,
      groups: 2,
      distinct: 1,
      buckets: [
        { index: 1, count: 1 },
        { index: 2, count: 2 },
      ],
    },
  })
})

it('refuses with a 400 past its bound of cells, saying how to narrow the query', () => {
  const tally = new StatisticsTally(spec, 10)
  assert.throws(
    () => {
      for (let i = 0; i < 100; i++) tally.add([`u${i}`], `ip${i}`, i, 1)
    },
    (e: unknown) =>
      isOpenCtsError(e) &&
      e.httpStatus === 400 &&
      /more than 10 combinations of group, distinct value and interval; narrow/.test(e.message),
  )
})

it('top picks what a full sort puts first, ties included, for every n', () => {
  let seed = 7
  const random = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647
  const compare = (a: [number, string], b: [number, string]): number =>
    b[0] - a[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)
  for (const size of [0, 1, 5, 200]) {
    const items = Array.from({ length: size }, (_, i): [number, string] => [
      Math.floor(random() * 4),
      `v${i % 50}`,
    ])
    const sorted = [...items].sort(compare)
    for (const n of [0, 1, 3, 10, size, size + 2])
      assert.deepEqual(top(items, n, compare), sorted.slice(0, n), `size ${size}, n ${n}`)
  }
})
