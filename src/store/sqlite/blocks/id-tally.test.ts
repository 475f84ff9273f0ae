/** IdTally: counts on interned ids resolve to what the string tally counts directly. */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { isOpenCtsError } from '../../../errors/index.js'
import { StatisticsTally } from '../../statistics-tally.js'
import type { StatisticsSpec } from '../../store.js'
import { IdTally } from './id-tally.js'

const spec: StatisticsSpec = {
  groupBy: ['user_name', 'code'],
  distinct: 'source_ip',
  top: 3,
  buckets: { start: 0, step: 10 },
}

type Row = [string | null, string | null, string | null, number]

const ROWS: Row[] = [
  ['alice', '200', '10.0.0.1', 0],
  ['alice', '200', '10.0.0.2', 1],
  ['alice', '403', '10.0.0.1', 1],
  ['bob', '200', null, 2],
  [null, '200', '10.0.0.3', 2],
  ['bob', null, '10.0.0.3', 3],
  ['carol', '500', '10.0.0.1', 3],
]

it('resolves groups, distinct values and intervals as the string tally counts them', () => {
  const direct = new StatisticsTally(spec)
  for (const [user, code, ip, index] of ROWS) direct.add([user, code], ip, index, 1)
  const ids = new IdTally(spec)
  // Two "blocks" with their own dictionaries, mapped through to the query's ids.
  for (const rows of [ROWS.slice(0, 3), ROWS.slice(3)]) {
    const dict = [...new Set(rows.flatMap(([u, c, ip]) => [u, c, ip]))]
    const [a, b, d] = ids.fields.map((field) => field.through((id) => dict[id] ?? null))
    for (const [user, code, ip, index] of rows) {
      const group = IdTally.key(a?.(dict.indexOf(user)) ?? 0, b?.(dict.indexOf(code)) ?? 0)
      ids.count(group, 1)
      ids.distinct(group, d?.(dict.indexOf(ip)) ?? 0)
      ids.bucket(group, index, 1)
    }
  }
  const tally = new StatisticsTally(spec)
  ids.into(tally)
  assert.deepEqual(tally.result(), direct.result())
})

it('refuses past its bound as the string tally does', () => {
  const ids = new IdTally(spec, 4)
  const a = ids.fields[0]
  assert.throws(
    () => {
      for (let i = 1; i <= 5; i++) ids.count(IdTally.key(a.id(`u${i}`), 0), 1)
    },
    (error: unknown) => isOpenCtsError(error) && /more than 4 combinations/.test(error.message),
  )
})
