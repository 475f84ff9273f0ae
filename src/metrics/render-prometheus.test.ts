import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { MetricSnapshot } from './metric-types.js'
import { escapeLabelValue, formatValue, renderPrometheus } from './render-prometheus.js'

describe('renderPrometheus', () => {
  it('escapes backslash, double quote and newline in label values, and in HELP', () => {
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd')
    const text = renderPrometheus([
      {
        name: 'x_total',
        help: 'line one\nback\\slash "quoted"',
        type: 'counter',
        series: [{ labels: [['path', 'C:\\dir\n"x"']], value: 3 }],
      },
    ])
    assert.equal(
      text,
      '# HELP x_total line one\\nback\\\\slash "quoted"\n' +
        '# TYPE x_total counter\n' +
        'x_total{path="C:\\\\dir\\n\\"x\\""} 3\n',
    )
  })

  it('sorts metrics by name and series by label set, whatever the input order', () => {
    const metrics: MetricSnapshot[] = [
      {
        name: 'b_gauge',
        help: 'B.',
        type: 'gauge',
        series: [
          { labels: [['k', 'z']], value: 1 },
          { labels: [['k', 'a']], value: 2.5 },
        ],
      },
      { name: 'a_total', help: 'A.', type: 'counter', series: [{ labels: [], value: 0 }] },
    ]
    const expected =
      '# HELP a_total A.\n# TYPE a_total counter\na_total 0\n' +
      '# HELP b_gauge B.\n# TYPE b_gauge gauge\nb_gauge{k="a"} 2.5\nb_gauge{k="z"} 1\n'
    assert.equal(renderPrometheus(metrics), expected)
    assert.equal(renderPrometheus([...metrics].reverse()), expected)
  })

  it('writes histograms as cumulative _bucket lines ending in +Inf, then _sum and _count', () => {
    const text = renderPrometheus([
      {
        name: 'd_seconds',
        help: 'D.',
        type: 'histogram',
        series: [
          {
            labels: [['api', 'v3']],
            buckets: [
              { le: 0.1, count: 1 },
              { le: 1, count: 3 },
            ],
            sum: 7.25,
            count: 4,
          },
        ],
      },
    ])
    assert.equal(
      text,
      '# HELP d_seconds D.\n# TYPE d_seconds histogram\n' +
        'd_seconds_bucket{api="v3",le="0.1"} 1\n' +
        'd_seconds_bucket{api="v3",le="1"} 3\n' +
        'd_seconds_bucket{api="v3",le="+Inf"} 4\n' +
        'd_seconds_sum{api="v3"} 7.25\n' +
        'd_seconds_count{api="v3"} 4\n',
    )
  })

  it('spells infinities and NaN the Prometheus way and renders nothing for no metrics', () => {
    assert.deepEqual([Infinity, -Infinity, NaN, 1e-7, 42].map(formatValue), [
      '+Inf',
      '-Inf',
      'NaN',
      '1e-7',
      '42',
    ])
    assert.equal(renderPrometheus([]), '')
  })
})
