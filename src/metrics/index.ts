/**
 * @module metrics
 * A tiny Prometheus metrics registry (no dependency) and the OpenCTS metrics served at
 * `GET /metrics` (docs/metrics.md).
 */
export { Counter } from './counter.js'
export { Gauge, type GaugeCallback, type GaugeOptions, type GaugeSample } from './gauge.js'
export { DEFAULT_BUCKETS, Histogram, type HistogramOptions } from './histogram.js'
export {
  DEFAULT_MAX_SERIES,
  OVERFLOW_LABELS,
  type HistogramSeries,
  type LabelPairs,
  type LabelValues,
  type MetricOptions,
  type MetricSnapshot,
  type ScalarSeries,
} from './metric-types.js'
export { MetricsRegistry, type RegistryOptions } from './registry.js'
export {
  PROMETHEUS_CONTENT_TYPE,
  escapeLabelValue,
  formatValue,
  renderPrometheus,
} from './render-prometheus.js'
export {
  OpenCtsMetrics,
  type DeliveryOutcome,
  type LeaseHeld,
  type StorePool,
  type OpenCtsMetricsOptions,
  type QueryApi,
  type TransferLag,
} from './opencts-metrics.js'
export { storeTransferLag, type TransferLagDeps } from './transfer-lag.js'
