/**
 * @module metrics/render-prometheus
 * The Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), byte for byte stable:
 * - per metric `# HELP name text` (`\` and newline escaped) and `# TYPE name counter|gauge|histogram`;
 * - metrics sorted by name; series sorted by their rendered label set (code-unit order);
 * - label values escaped: `\` → `\\`, `"` → `\"`, newline → `\n`;
 * - histograms as `name_bucket{...,le="b"}` (cumulative, ascending, ending in `le="+Inf"` = count),
 *   then `name_sum`, `name_count`;
 * - values as JavaScript prints numbers, with `+Inf`, `-Inf` and `NaN` spelled the Prometheus way;
 * - every line ends in `\n`. No timestamps. Pure.
 */
import type { LabelPairs, MetricSnapshot } from './metric-types.js'

/** The Content-Type of the output. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

export function formatValue(value: number): string {
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  if (Number.isNaN(value)) return 'NaN'
  return String(value)
}

/** `{a="x",b="y"}`, or '' for no labels. */
function labelText(labels: LabelPairs): string {
  if (labels.length === 0) return ''
  return `{${labels.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`
}

function byKey<T>(key: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => {
    const x = key(a)
    const y = key(b)
    return x < y ? -1 : x > y ? 1 : 0
  }
}

export function renderPrometheus(metrics: readonly MetricSnapshot[]): string {
  const lines: string[] = []
  for (const metric of [...metrics].sort(byKey((m) => m.name))) {
    const { name } = metric
    lines.push(`# HELP ${name} ${escapeHelp(metric.help)}`, `# TYPE ${name} ${metric.type}`)
    if (metric.type === 'histogram') {
      for (const series of [...metric.series].sort(byKey((s) => labelText(s.labels)))) {
        const bucket = (le: string, count: number): string =>
          `${name}_bucket${labelText([...series.labels, ['le', le]])} ${formatValue(count)}`
        for (const { le, count } of series.buckets) lines.push(bucket(formatValue(le), count))
        const labels = labelText(series.labels)
        lines.push(
          bucket('+Inf', series.count),
          `${name}_sum${labels} ${formatValue(series.sum)}`,
          `${name}_count${labels} ${formatValue(series.count)}`,
        )
      }
    } else {
      for (const series of [...metric.series].sort(byKey((s) => labelText(s.labels))))
        lines.push(`${name}${labelText(series.labels)} ${formatValue(series.value)}`)
    }
  }
  return lines.map((line) => `${line}\n`).join('')
}
