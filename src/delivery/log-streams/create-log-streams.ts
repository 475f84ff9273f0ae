/**
 * @module delivery/log-streams/create-log-streams
 * Builds the log streamer from the configuration: one sink per configured destination
 * (`OPENCTS_LOG_STREAM_OTLP_URL` → `otlp`, `OPENCTS_LOG_STREAM_SYSLOG` → `syslog`,
 * `OPENCTS_LOG_STREAM_FILE` → `file`), or null when none is, each writing its records in the format
 * `OPENCTS_LOG_STREAM_FORMAT` names (record-text). The composition root starts and stops what it
 * returns.
 */
import { hostname } from 'node:os'
import type { OpenCtsConfig } from '../../config/config.js'
import type { Clock } from '../../platform/clock.js'
import type { Store } from '../../store/index.js'
import { JsonLinesFileSink } from './file/json-lines-file-sink.js'
import type { LogSink } from './log-sink.js'
import { LogStreamService, type LogStreamServiceDeps } from './log-stream-service.js'
import { OtlpHttpSink } from './otlp/otlp-http-sink.js'
import { recordText } from './record-text.js'
import { parseSyslogTarget, type SyslogHeader } from './syslog-message.js'
import { TcpSyslogSink } from './syslog/tcp-syslog-sink.js'
import { UdpSyslogSink } from './syslog/udp-syslog-sink.js'

export type LogStreamsConfig = Pick<
  OpenCtsConfig,
  'logStreamOtlpUrl' | 'logStreamSyslog' | 'logStreamFile' | 'logStreamIntervalMs'
> &
  Partial<Pick<OpenCtsConfig, 'logStreamFormat'>>

export interface LogStreamsDeps {
  readonly store: Pick<Store, 'traces' | 'config' | 'delivery'>
  readonly clock: Clock
  readonly publisher?: LogStreamServiceDeps['publisher']
  readonly onOutcome?: LogStreamServiceDeps['onOutcome']
  readonly onError?: LogStreamServiceDeps['onError']
  /** HOSTNAME of syslog messages. Default `os.hostname()`. */
  readonly hostname?: string
}

/** The configured sinks, in the order otlp, syslog, file. Throws a RangeError on a bad target. */
export function createLogSinks(config: LogStreamsConfig, host = hostname()): LogSink[] {
  const sinks: LogSink[] = []
  const text = recordText(config.logStreamFormat ?? 'cts')
  if (config.logStreamOtlpUrl !== '')
    sinks.push(new OtlpHttpSink({ url: config.logStreamOtlpUrl, text }))
  if (config.logStreamSyslog !== '') {
    const target = parseSyslogTarget(config.logStreamSyslog)
    const header: SyslogHeader = {
      facility: target.facility,
      hostname: host,
      appName: 'opencts',
      procId: String(process.pid),
      msg: text,
    }
    const options = { host: target.host, port: target.port, header }
    sinks.push(target.protocol === 'tcp' ? new TcpSyslogSink(options) : new UdpSyslogSink(options))
  }
  if (config.logStreamFile !== '')
    sinks.push(new JsonLinesFileSink({ path: config.logStreamFile, text }))
  return sinks
}

/** The streamer over the configured sinks (not started), or null when no sink is configured. */
export function createLogStreams(
  config: LogStreamsConfig,
  deps: LogStreamsDeps,
): LogStreamService | null {
  const sinks = createLogSinks(config, deps.hostname)
  if (sinks.length === 0) return null
  return new LogStreamService({
    traces: deps.store.traces,
    cursors: deps.store.delivery,
    trackers: deps.store.config,
    sinks,
    clock: deps.clock,
    intervalMs: config.logStreamIntervalMs,
    ...(deps.publisher === undefined ? {} : { publisher: deps.publisher }),
    ...(deps.onOutcome === undefined ? {} : { onOutcome: deps.onOutcome }),
    ...(deps.onError === undefined ? {} : { onError: deps.onError }),
  })
}
