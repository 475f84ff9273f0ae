import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { OpenCtsMetrics } from './opencts-metrics.js'

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('OpenCtsMetrics', () => {
  it('exports every metric with its type, and the defaults before anything happened', async () => {
    const metrics = new OpenCtsMetrics({ startTimeSeconds: 1_700_000_000.5 })
    metrics.setVersion('9.8.7')
    const text = await metrics.render()
    for (const [name, type] of [
      ['opencts_traces_ingested_total', 'counter'],
      ['opencts_ingest_duration_seconds', 'histogram'],
      ['opencts_query_duration_seconds', 'histogram'],
      ['opencts_deliveries_total', 'counter'],
      ['opencts_outbox_depth', 'gauge'],
      ['opencts_transfer_lag_seconds', 'gauge'],
      ['opencts_log_stream_records_total', 'counter'],
      ['opencts_metrics_callback_errors_total', 'counter'],
      ['process_start_time_seconds', 'gauge'],
      ['opencts_build_info', 'gauge'],
      ['opencts_store_pool_connections', 'gauge'],
      ['opencts_lease_held', 'gauge'],
    ])
      assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'))
    assert.equal(sample(text, 'opencts_outbox_depth'), 0)
    assert.equal(sample(text, 'opencts_deliveries_total{outcome="dead"}'), 0)
    assert.equal(sample(text, 'opencts_query_duration_seconds_count{api="v1.0"}'), 0)
    assert.equal(sample(text, 'opencts_ingest_duration_seconds_count'), 0)
    assert.equal(sample(text, 'process_start_time_seconds'), 1_700_000_000.5)
    assert.equal(sample(text, 'opencts_build_info{version="9.8.7"}'), 1)
    assert.doesNotMatch(text, /^opencts_transfer_lag_seconds/m)
    assert.doesNotMatch(text, /^opencts_store_pool_connections/m)
    assert.doesNotMatch(text, /^opencts_lease_held/m)
  })

  it('reads the store pool and the leases at each scrape', async () => {
    const metrics = new OpenCtsMetrics()
    let pool: { size: number; idle: number; waiting: number } | undefined = {
      size: 7,
      idle: 2,
      waiting: 3,
    }
    let held = ['delivery']
    metrics.setStorePool(async () => pool)
    metrics.setLeases(() =>
      ['delivery', 'transfer'].map((lease) => ({ lease, held: held.includes(lease) })),
    )
    let text = await metrics.render()
    assert.equal(sample(text, 'opencts_store_pool_connections{state="total"}'), 7)
    assert.equal(sample(text, 'opencts_store_pool_connections{state="idle"}'), 2)
    assert.equal(sample(text, 'opencts_store_pool_connections{state="waiting"}'), 3)
    assert.equal(sample(text, 'opencts_lease_held{lease="delivery"}'), 1)
    assert.equal(sample(text, 'opencts_lease_held{lease="transfer"}'), 0)
    pool = undefined
    held = ['transfer']
    text = await metrics.render()
    assert.doesNotMatch(text, /^opencts_store_pool_connections\{/m, 'no pool (SQLite): no sample')
    assert.equal(sample(text, 'opencts_lease_held{lease="delivery"}'), 0)
    assert.equal(sample(text, 'opencts_lease_held{lease="transfer"}'), 1)
  })

  it('counts traces, deliveries and log stream records by their labels', async () => {
    const metrics = new OpenCtsMetrics()
    metrics.tracesIngested([
      { service_type: 'ECS', trace_name: 'createServer', trace_rating: 'normal' },
      { service_type: 'ECS', trace_name: 'createServer', trace_rating: 'normal' },
      { service_type: 'VPC', trace_name: 'deleteEip', trace_rating: 'warning' },
      // The same name under another service, the same service and name with another rating.
      { service_type: 'VPC', trace_name: 'createServer', trace_rating: 'normal' },
      { service_type: 'ECS', trace_name: 'createServer', trace_rating: 'incident' },
      { service_type: 'ECS', trace_name: 'createServer', trace_rating: 'normal' },
    ])
    metrics.deliveryOutcome('dead')
    metrics.deliveryOutcome('delivered')
    metrics.deliveryOutcome('delivered')
    metrics.logStreamOutcome('syslog', 'written', 5)
    metrics.ingestDuration(0.02)
    metrics.queryDuration('v3', 3)
    const text = await metrics.render()
    const ingested = 'opencts_traces_ingested_total'
    assert.equal(
      sample(text, `${ingested}{service="ECS",trace_name="createServer",rating="normal"}`),
      3,
    )
    assert.equal(
      sample(text, `${ingested}{service="ECS",trace_name="createServer",rating="incident"}`),
      1,
    )
    assert.equal(
      sample(text, `${ingested}{service="VPC",trace_name="createServer",rating="normal"}`),
      1,
    )
    assert.equal(
      sample(text, `${ingested}{service="VPC",trace_name="deleteEip",rating="warning"}`),
      1,
    )
    assert.equal(sample(text, 'opencts_deliveries_total{outcome="delivered"}'), 2)
    assert.equal(sample(text, 'opencts_deliveries_total{outcome="dead"}'), 1)
    assert.equal(sample(text, 'opencts_deliveries_total{outcome="failed"}'), 0)
    assert.equal(
      sample(text, 'opencts_log_stream_records_total{sink="syslog",outcome="written"}'),
      5,
    )
    assert.equal(sample(text, 'opencts_ingest_duration_seconds_bucket{le="0.025"}'), 1)
    assert.equal(sample(text, 'opencts_ingest_duration_seconds_bucket{le="0.01"}'), 0)
    assert.equal(sample(text, 'opencts_query_duration_seconds_bucket{api="v3",le="2.5"}'), 0)
    assert.equal(sample(text, 'opencts_query_duration_seconds_bucket{api="v3",le="5"}'), 1)
  })

  it('reads outbox depth and transfer lag from their callbacks, counting failures', async () => {
    const metrics = new OpenCtsMetrics()
    let depth = 12
    metrics.setOutboxDepth(async () => depth)
    metrics.setTransferLag(async () => [
      { tracker: 'system', project: 'p2', seconds: 90 },
      { tracker: 'system', project: 'p1', seconds: 0 },
    ])
    let text = await metrics.render()
    assert.equal(sample(text, 'opencts_outbox_depth'), 12)
    assert.equal(sample(text, 'opencts_transfer_lag_seconds{project="p1",tracker="system"}'), 0)
    assert.equal(sample(text, 'opencts_transfer_lag_seconds{project="p2",tracker="system"}'), 90)
    depth = 3
    metrics.setTransferLag(async () => {
      throw new Error('store down')
    })
    text = await metrics.render()
    assert.equal(sample(text, 'opencts_outbox_depth'), 3)
    assert.doesNotMatch(text, /^opencts_transfer_lag_seconds\{/m)
    assert.equal(
      sample(text, 'opencts_metrics_callback_errors_total{metric="opencts_transfer_lag_seconds"}'),
      1,
    )
  })
})
