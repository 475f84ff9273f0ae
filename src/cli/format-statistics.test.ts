/**
 * Tests of the `opencts stats` printout: the group table (values, right-aligned counts, distinct,
 * share, the other row, the total line), interval lines wrapped to 100 columns, and the shape
 * check of the API's answer.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CliFailure } from './cli-errors.js'
import {
  formatStatistics,
  intervalText,
  readStatisticsAnswer,
  shareText,
  type StatisticsAnswer,
} from './format-statistics.js'

const T = Date.UTC(2026, 4, 10, 12, 0, 0)
const HOUR = 3_600_000

const GROUPED: StatisticsAnswer = {
  from: T - HOUR - 1,
  to: T,
  group_by: ['user', 'code'],
  distinct: 'source_ip',
  interval: null,
  total: 12,
  groups: [
    { values: { user: 'alice', code: '201' }, count: 5, distinct: 2 },
    { values: { user: 'bob', code: null }, count: 4, distinct: 1 },
  ],
  other: { count: 3, groups: 2, distinct: 1 },
}

describe('formatStatistics', () => {
  it('prints a row per group with count, distinct and share, the other row and the total', () => {
    assert.equal(
      formatStatistics(GROUPED),
      [
        'USER               CODE    COUNT  DISTINCT SOURCE_IP  SHARE',
        'alice              201         5                   2  41.7%',
        'bob                (none)      4                   1  33.3%',
        '(other: 2 groups)              3                   1  25.0%',
        'Total: 12 traces after 2026-05-10T10:59:59.999Z and before 2026-05-10T12:00:00Z',
        '',
      ].join('\n'),
    )
  })

  it('prints one row "(all)" without groups, and only the total when nothing matches', () => {
    const all: StatisticsAnswer = {
      ...GROUPED,
      group_by: [],
      distinct: null,
      total: 7,
      groups: [{ values: {}, count: 7 }],
      other: null,
    }
    assert.equal(
      formatStatistics(all),
      'GROUP  COUNT   SHARE\n(all)      7  100.0%\n' +
        'Total: 7 traces after 2026-05-10T10:59:59.999Z and before 2026-05-10T12:00:00Z\n',
    )
    assert.equal(
      formatStatistics({ ...all, total: 0, groups: [{ values: {}, count: 0 }] }),
      'Total: 0 traces after 2026-05-10T10:59:59.999Z and before 2026-05-10T12:00:00Z\n',
    )
  })

  it('lists the non-empty intervals of each group and of other after the total', () => {
    const at = (tenth: number, count: number) => ({ time: T - HOUR + tenth * 600_000, count })
    const text = formatStatistics({
      ...GROUPED,
      group_by: ['trace_name'],
      distinct: null,
      interval: 600_000,
      total: 1234,
      groups: [
        { values: { trace_name: 'createImage' }, count: 1000, buckets: [at(0, 500), at(5, 500)] },
        { values: { trace_name: 'deleteImage' }, count: 233, buckets: [at(2, 233)] },
      ],
      other: { count: 1, groups: 1, buckets: [at(3, 1)] },
    })
    assert.equal(
      text,
      [
        'TRACE_NAME        COUNT  SHARE',
        'createImage        1000  81.0%',
        'deleteImage         233  18.9%',
        '(other: 1 group)      1   0.1%',
        'Total: 1234 traces after 2026-05-10T10:59:59.999Z and before 2026-05-10T12:00:00Z',
        '',
        'Per 10m interval (UTC, from 2026-05-10T11:00:00Z; empty intervals left out):',
        'createImage  11:00 500  11:50 500',
        'deleteImage  11:20 233',
        '(other)      11:30 1',
        '',
      ].join('\n'),
    )
  })

  it('wraps long interval lines under the label, at most 100 columns, dates when days differ', () => {
    const buckets = Array.from({ length: 40 }, (_, i) => ({
      time: T - 2 * 86_400_000 + i * HOUR,
      count: i + 1,
    }))
    const text = formatStatistics({
      ...GROUPED,
      from: T - 3 * 86_400_000,
      group_by: ['user'],
      distinct: null,
      interval: HOUR,
      total: 820,
      groups: [{ values: { user: 'alice' }, count: 820, buckets }],
      other: null,
    })
    const lines = text.slice(text.indexOf('Per 1h')).trimEnd().split('\n').slice(1)
    assert.ok(lines.length > 1, text)
    for (const line of lines) assert.ok(line.length <= 100, line)
    assert.match(lines[0] ?? '', /^alice {2}05-08 12:00 1 {2}05-08 13:00 2 /)
    for (const line of lines.slice(1)) assert.match(line, /^ {7}\d\d-\d\d \d\d:00 \d+/)
    // Every interval is printed once, in order.
    const printed = [...lines.join(' ').matchAll(/(\d\d-\d\d \d\d:00) (\d+)/g)].map((m) =>
      Number(m[2]),
    )
    assert.deepEqual(
      printed,
      buckets.map((b) => b.count),
    )
  })

  it('neutralises control characters in group values', () => {
    const text = formatStatistics({
      ...GROUPED,
      groups: [{ values: { user: 'evil\u001b[2J', code: '200' }, count: 12, distinct: 1 }],
      other: null,
    })
    assert.ok(!text.includes('\u001b'), text)
    assert.match(text, /^evil\?\[2J\s+200\s+12\s+1\s+100\.0%$/m)
  })

  it('fits a row of two long values and the widest distinct header in 100 columns', () => {
    const text = formatStatistics({
      ...GROUPED,
      group_by: ['resource_type', 'trace_name'],
      distinct: 'access_key_id',
      groups: [
        {
          values: { resource_type: 'r'.repeat(60), trace_name: 't'.repeat(60) },
          count: 12,
          distinct: 1,
        },
      ],
      other: null,
    })
    const lines = text.trimEnd().split('\n')
    for (const line of lines.slice(0, -1)) assert.ok(line.length <= 100, line)
    assert.match(lines[1] ?? '', /^r{27}… {2}t{27}… +12 +1 +100\.0%$/)
  })
})

describe('shareText and intervalText', () => {
  it('prints shares with one decimal, tiny shares as <0.1%, and no share of nothing', () => {
    assert.deepEqual(
      [shareText(1, 3), shareText(1, 100_000), shareText(0, 5), shareText(0, 0)],
      ['33.3%', '<0.1%', '0.0%', '-'],
    )
  })

  it('names intervals by their largest whole unit', () => {
    assert.deepEqual([86_400_000, HOUR, 300_000, 90_000, 1500].map(intervalText), [
      '1d',
      '1h',
      '5m',
      '90s',
      '1500ms',
    ])
  })
})

describe('readStatisticsAnswer', () => {
  it('accepts the API shape and refuses anything else with a CliFailure', () => {
    assert.equal(readStatisticsAnswer({ ...GROUPED }).total, 12)
    const bad: Record<string, unknown>[] = [
      { ...GROUPED, total: '12' },
      { ...GROUPED, groups: undefined },
      { ...GROUPED, group_by: 'user' },
      { ...GROUPED, groups: [{ count: 1 }] },
      { ...GROUPED, groups: [{ values: {}, count: 1, buckets: [{ time: 'x', count: 1 }] }] },
      { ...GROUPED, other: { count: 1 } },
    ]
    for (const json of bad)
      assert.throws(() => readStatisticsAnswer(json), CliFailure, JSON.stringify(json))
  })
})
