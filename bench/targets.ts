/**
 * @module bench/targets
 * Figures checked against a target (issue 16): each row of the targets table says the figure, the
 * target, and PASS or FAIL (`n/a` when the figure could not be measured: a skipped baseline, an
 * unsupported wire form, no samples).
 */

export type Comparison = '>=' | '<=' | '<'

export interface Target {
  readonly op: Comparison
  readonly value: number
}

export type Verdict = 'PASS' | 'FAIL' | 'n/a'

export interface TargetRow {
  readonly measure: string
  /** The figure as printed (units in the measure). */
  readonly figure: string
  readonly value: number
  /** Undefined for a row that is reported without a target. */
  readonly target?: Target
}

export function verdict(value: number, target: Target | undefined): Verdict {
  if (target === undefined || !Number.isFinite(value)) return 'n/a'
  const ok =
    target.op === '>='
      ? value >= target.value
      : target.op === '<='
        ? value <= target.value
        : value < target.value
  return ok ? 'PASS' : 'FAIL'
}

/** A number with thousands separators and `digits` decimals; `-` when not finite. */
export function formatNumber(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return '-'
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  })
}

function targetText(target: Target | undefined): string {
  return target === undefined
    ? '-'
    : `${target.op} ${formatNumber(target.value, target.value < 10 ? 1 : 0)}`
}

/** `|` inside a cell would split it. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|')
}

/** The markdown table of `rows`. */
export function renderTargets(rows: readonly TargetRow[]): string[] {
  return [
    '| measure | figure | target | result |',
    '|---|---:|---:|:---:|',
    ...rows.map(
      (row) =>
        `| ${cell(row.measure)} | ${cell(row.figure)} | ${targetText(row.target)} | ${row.target === undefined ? '-' : verdict(row.value, row.target)} |`,
    ),
  ]
}

/** PASS / FAIL / n/a counts of the rows that have a target. */
export function tally(rows: readonly TargetRow[]): Record<Verdict, number> {
  const counts: Record<Verdict, number> = { PASS: 0, FAIL: 0, 'n/a': 0 }
  for (const row of rows) if (row.target !== undefined) counts[verdict(row.value, row.target)]++
  return counts
}
