/**
 * @module cli/format-statistics
 * The answer of the statistics API (`GET /v3/{project_id}/traces/statistics`) as `opencts stats`
 * prints it: checked for shape first (`readStatisticsAnswer`), then a table with one row per
 * group (its values, count, distinct count when asked, share of the total), an `(other: k groups)`
 * row, a total line naming the window, and with an interval one line per group of its non-empty
 * intervals (`11:00 3  11:10 1`), wrapped to 100 columns. Pure: no I/O.
 */
import { CliFailure } from './cli-errors.js'
import { formatTable, MAX_CELL_WIDTH, tableCell } from './format-table.js'

/** Counts of one group, or of the groups folded into `other`. */
export interface StatisticsCountsAnswer {
  readonly count: number
  /** Distinct values of the `distinct` field (only when asked). */
  readonly distinct?: number
  /** Non-empty intervals, oldest first (only with an interval). */
  readonly buckets?: readonly { readonly time: number; readonly count: number }[]
}

/** The API's answer (docs/statistics.md). */
export interface StatisticsAnswer {
  readonly from: number
  readonly to: number
  readonly group_by: readonly string[]
  readonly distinct: string | null
  readonly interval: number | null
  readonly total: number
  readonly groups: readonly (StatisticsCountsAnswer & {
    readonly values: Readonly<Record<string, string | null>>
  })[]
  readonly other: (StatisticsCountsAnswer & { readonly groups: number }) | null
}

/** Widest printed line of the interval lines. */
const LINE_WIDTH = 100
/** Widest group label of the interval lines. */
const MAX_LABEL_WIDTH = 30
/** Widest value cell when grouping by two fields, so that a row fits in 100 columns. */
const TWO_FIELD_VALUE_WIDTH = 28

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v)

function countsOk(c: Record<string, unknown>): boolean {
  return (
    isCount(c.count) &&
    (c.distinct === undefined || isCount(c.distinct)) &&
    (c.buckets === undefined ||
      (Array.isArray(c.buckets) &&
        c.buckets.every(
          (b) =>
            typeof b === 'object' &&
            b !== null &&
            isCount((b as Record<string, unknown>).time) &&
            isCount((b as Record<string, unknown>).count),
        )))
  )
}

/** The answer when it has the statistics shape. Throws CliFailure naming what is wrong. */
export function readStatisticsAnswer(json: Record<string, unknown>): StatisticsAnswer {
  const bad = (what: string): never => {
    throw new CliFailure(`the server's statistics answer has ${what}`)
  }
  if (!isCount(json.from) || !isCount(json.to) || !isCount(json.total))
    bad('no from, to or total count')
  if (!Array.isArray(json.group_by) || !json.group_by.every((n) => typeof n === 'string'))
    bad('no group_by list')
  if (!Array.isArray(json.groups)) bad('no groups list')
  for (const group of json.groups as unknown[]) {
    const g = group as Record<string, unknown> | null
    if (typeof g !== 'object' || g === null || typeof g.values !== 'object' || g.values === null)
      bad('a group without values')
    if (!countsOk(g as Record<string, unknown>)) bad('a group with malformed counts')
  }
  const other = json.other as Record<string, unknown> | null | undefined
  if (other !== null && (typeof other !== 'object' || !countsOk(other) || !isCount(other.groups)))
    bad('a malformed other')
  return json as unknown as StatisticsAnswer
}

/** ISO-8601 UTC, without milliseconds when they are 0. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z')
}

/** An interval as its largest whole unit: `1h`, `5m`, `90s`, `1500ms`. */
export function intervalText(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`
  return `${ms}ms`
}

/** `count` as a share of `total`: `41.7%`, `<0.1%` for a small non-zero share. */
export function shareText(count: number, total: number): string {
  if (total <= 0) return '-'
  const share = (count / total) * 100
  return share > 0 && share < 0.05 ? '<0.1%' : `${share.toFixed(1)}%`
}

/** A group's value as printed: `(none)` for a trace without the field. */
function valueText(value: string | null | undefined): string {
  return value === null || value === undefined ? '(none)' : value
}

/** Right-aligns the columns `numeric` of `rows` (header included) by padding their cells. */
function rightAlign(
  header: readonly string[],
  rows: readonly string[][],
  numeric: readonly number[],
): string[][] {
  const all = [[...header], ...rows]
  for (const column of numeric) {
    const width = Math.max(...all.map((row) => (row[column] ?? '').length))
    for (const row of all) row[column] = (row[column] ?? '').padStart(width)
  }
  return all
}

/** The table of groups, the other row and the total line. */
function groupTable(answer: StatisticsAnswer): string {
  const names = answer.group_by.length === 0 ? ['group'] : answer.group_by
  const distinct = answer.distinct
  const header = [
    ...names.map((n) => n.toUpperCase()),
    'COUNT',
    ...(distinct === null ? [] : [`DISTINCT ${distinct.toUpperCase()}`]),
    'SHARE',
  ]
  const counts = (c: StatisticsCountsAnswer): string[] => [
    String(c.count),
    ...(distinct === null ? [] : [String(c.distinct ?? 0)]),
    shareText(c.count, answer.total),
  ]
  const valueWidth = answer.group_by.length === 2 ? TWO_FIELD_VALUE_WIDTH : MAX_CELL_WIDTH
  const rows = answer.groups.map((g) => [
    ...(answer.group_by.length === 0
      ? ['(all)']
      : answer.group_by.map((n) => tableCell(valueText(g.values[n]), valueWidth))),
    ...counts(g),
  ])
  if (answer.other !== null)
    rows.push([
      `(other: ${answer.other.groups} group${answer.other.groups === 1 ? '' : 's'})`,
      ...names.slice(1).map(() => ''),
      ...counts(answer.other),
    ])
  const numeric = Array.from({ length: header.length - names.length }, (_, i) => names.length + i)
  const [head = header, ...body] = rightAlign(header, rows, numeric)
  return answer.total === 0 ? '' : formatTable(head, body)
}

/** How a bucket's start time is printed: as short as the window and interval allow, UTC. */
function bucketTimeFormat(answer: StatisticsAnswer, step: number): (ms: number) => string {
  const iso = (ms: number): string => new Date(ms).toISOString()
  if (step % 86_400_000 === 0) return (ms) => iso(ms).slice(0, 10)
  const seconds = step % 60_000 !== 0
  const oneDay = iso(answer.from + 1).slice(0, 10) === iso(answer.to - 1).slice(0, 10)
  return (ms) =>
    iso(ms)
      .slice(oneDay ? 11 : 5, seconds ? 19 : 16)
      .replace('T', ' ')
}

/** One line (wrapped) per group: its label, then `time count` of each non-empty interval. */
function bucketLines(answer: StatisticsAnswer, step: number): string {
  const labelled: [string, StatisticsCountsAnswer][] = answer.groups.map((g) => [
    answer.group_by.length === 0
      ? '(all)'
      : answer.group_by.map((n) => valueText(g.values[n])).join(' / '),
    g,
  ])
  if (answer.other !== null) labelled.push(['(other)', answer.other])
  const labels = labelled.map(([label]) => tableCell(label, MAX_LABEL_WIDTH))
  const width = Math.max(0, ...labels.map((l) => [...l].length))
  const time = bucketTimeFormat(answer, step)
  const indent = ' '.repeat(width + 2)
  const out: string[] = []
  labelled.forEach(([, counts], i) => {
    const label = labels[i] ?? ''
    const entries = (counts.buckets ?? []).map((b) => `${time(b.time)} ${b.count}`)
    let line = label + ' '.repeat(width - [...label].length)
    entries.forEach((entry, j) => {
      if (j > 0 && line.length + 2 + entry.length > LINE_WIDTH) {
        out.push(line)
        line = indent.slice(2)
      }
      line += `  ${entry}`
    })
    out.push(entries.length === 0 ? `${line}  -` : line)
  })
  const first = labelled.reduce(
    (min, [, c]) => Math.min(min, c.buckets?.[0]?.time ?? Infinity),
    Infinity,
  )
  return (
    `Per ${intervalText(step)} interval (UTC, from ${isoTime(Number.isFinite(first) ? first : answer.from + 1)}; ` +
    `empty intervals left out):\n${out.map((l) => `${l}\n`).join('')}`
  )
}

/** The whole printout of an answer (every line ends with `\n`); only the total line when it is 0. */
export function formatStatistics(answer: StatisticsAnswer): string {
  const total =
    `Total: ${answer.total} trace${answer.total === 1 ? '' : 's'} after ${isoTime(answer.from)} ` +
    `and before ${isoTime(answer.to)}\n`
  const intervals =
    answer.interval === null || answer.total === 0
      ? ''
      : `\n${bucketLines(answer, answer.interval)}`
  return groupTable(answer) + total + intervals
}
