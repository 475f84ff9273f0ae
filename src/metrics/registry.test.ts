import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MetricsRegistry } from './registry.js'
import { renderPrometheus } from './render-prometheus.js'

async function render(registry: MetricsRegistry): Promise<string> {
  return renderPrometheus(await registry.collect())
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'))
}

describe('MetricsRegistry', () => {
  it('counts per label set and refuses negative increments and wrong labels', async () => {
    const registry = new MetricsRegistry()
    const counter = registry.counter({ name: 'c_total', help: 'C.', labelNames: ['a', 'b'] })
    counter.inc({ a: 'x', b: 'y' })
    counter.inc({ a: 'x', b: 'y' }, 2)
    counter.inc({ a: 'x', b: 'z' }, 0)
    assert.deepEqual(lines(await render(registry)), [
      'c_total{a="x",b="y"} 3',
      'c_total{a="x",b="z"} 0',
    ])
    assert.throws(() => counter.inc({ a: 'x', b: 'y' }, -1), RangeError)
    assert.throws(() => counter.inc({ a: 'x' } as never), TypeError)
    assert.throws(() => counter.inc({ a: 'x', b: 'y', c: 'z' } as never), TypeError)
  })

  it('keeps histogram buckets cumulative, with +Inf equal to the count', async () => {
    const registry = new MetricsRegistry()
    const histogram = registry.histogram({ name: 'h_seconds', help: 'H.', buckets: [0.1, 1, 10] })
    for (const value of [0.05, 0.1, 0.5, 5, 50]) histogram.observe({}, value)
    assert.deepEqual(lines(await render(registry)), [
      'h_seconds_bucket{le="0.1"} 2',
      'h_seconds_bucket{le="1"} 3',
      'h_seconds_bucket{le="10"} 4',
      'h_seconds_bucket{le="+Inf"} 5',
      'h_seconds_sum 55.65',
      'h_seconds_count 5',
    ])
    assert.throws(() => histogram.observe({}, NaN), RangeError)
  })

  it('folds label sets beyond maxSeries into {overflow="true"}', async () => {
    const registry = new MetricsRegistry({ maxSeries: 2 })
    const counter = registry.counter({ name: 'c_total', help: 'C.', labelNames: ['k'] })
    for (const k of ['a', 'b', 'c', 'd', 'a', 'e']) counter.inc({ k })
    const histogram = registry.histogram({
      name: 'h',
      help: 'H.',
      labelNames: ['k'],
      buckets: [1],
      maxSeries: 1,
    })
    histogram.observe({ k: 'a' }, 0.5)
    histogram.observe({ k: 'b' }, 2)
    assert.deepEqual(lines(await render(registry)), [
      'c_total{k="a"} 2',
      'c_total{k="b"} 1',
      'c_total{overflow="true"} 3',
      'h_bucket{k="a",le="1"} 1',
      'h_bucket{k="a",le="+Inf"} 1',
      'h_sum{k="a"} 0.5',
      'h_count{k="a"} 1',
      'h_bucket{overflow="true",le="1"} 0',
      'h_bucket{overflow="true",le="+Inf"} 1',
      'h_sum{overflow="true"} 2',
      'h_count{overflow="true"} 1',
    ])
  })

  it('reads gauges from their callback at each scrape, capped at maxSeries', async () => {
    const registry = new MetricsRegistry()
    let depth = 1
    const gauge = registry.gauge({
      name: 'g',
      help: 'G.',
      labelNames: ['k'],
      maxSeries: 2,
      collect: async () => [
        { labels: { k: 'c' }, value: depth },
        { labels: { k: 'a' }, value: depth },
        { labels: { k: 'b' }, value: depth },
      ],
    })
    assert.deepEqual(lines(await render(registry)), ['g{k="a"} 1', 'g{k="b"} 1'])
    depth = 7
    assert.deepEqual(lines(await render(registry)), ['g{k="a"} 7', 'g{k="b"} 7'])
    gauge.collectWith(async () => [{ labels: { k: 'only' }, value: 0 }])
    assert.deepEqual(lines(await render(registry)), ['g{k="only"} 0'])
  })

  it('exports a gauge whose callback fails without samples and reports it', async () => {
    const failures: string[] = []
    const registry = new MetricsRegistry({ onCollectError: (metric) => failures.push(metric) })
    registry.gauge({
      name: 'broken',
      help: 'B.',
      collect: async () => {
        throw new Error('store down')
      },
    })
    registry.gauge({
      name: 'twice',
      help: 'T.',
      labelNames: ['k'],
      collect: async () => [
        { labels: { k: 'a' }, value: 1 },
        { labels: { k: 'a' }, value: 2 },
      ],
    })
    registry.gauge({ name: 'fine', help: 'F.', collect: async () => [{ labels: {}, value: 1 }] })
    const text = await render(registry)
    assert.match(text, /^# TYPE broken gauge$/m)
    assert.deepEqual(lines(text), ['fine 1'])
    assert.deepEqual(failures.sort(), ['broken', 'twice'])
  })

  it('refuses invalid and duplicate names and reserved labels', () => {
    const registry = new MetricsRegistry()
    registry.counter({ name: 'ok_total', help: 'OK.' })
    assert.throws(() => registry.counter({ name: 'ok_total', help: 'again' }), /registered twice/)
    assert.throws(() => registry.counter({ name: '1bad', help: 'x' }), TypeError)
    assert.throws(() => registry.counter({ name: 'x', help: 'x', labelNames: ['a-b'] }), TypeError)
    assert.throws(() => registry.counter({ name: 'y', help: 'x', labelNames: ['__a'] }), TypeError)
    assert.throws(
      () => registry.gauge({ name: 'z', help: 'x', labelNames: ['overflow'] }),
      /reserved/,
    )
    assert.throws(
      () => registry.histogram({ name: 'h', help: 'x', labelNames: ['le'] }),
      /reserved/,
    )
    assert.throws(
      () => registry.histogram({ name: 'h2', help: 'x', buckets: [1, 1] }),
      /increasing/,
    )
    assert.throws(() => registry.counter({ name: 'm', help: 'x', maxSeries: 0 }), /maxSeries/)
  })
})
