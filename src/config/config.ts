/**
 * @module config/config
 * OpenCTS configuration: parsed once from environment and flags (flags win), validated, frozen and
 * passed in. Only this module and the entry points read `process.env`. Every default is here.
 */
import { availableParallelism } from 'node:os'
import { join, resolve } from 'node:path'
import { RECORD_FORMAT_NAMES } from '../formats/registry.js'
import {
  DEFAULT_DETECTOR_SETTINGS,
  DEFAULT_HIGH_RISK_OPERATIONS,
} from '../insights/detectors/settings.js'

/** What a log-stream record may hold: `cts` (the file representation) or a record format. */
export const LOG_STREAM_FORMATS: readonly string[] = ['cts', ...RECORD_FORMAT_NAMES]

export interface OpenCtsConfig {
  /** Address to listen on. Default 127.0.0.1 (loopback only). */
  readonly host: string
  /** TCP port. Default 8088; 0 picks a free port. */
  readonly port: number
  /** Folder for the SQLite file (`opencts.db`) and the local object folder (`objects/`). Default ./.opencts */
  readonly dataDir: string
  /** Region name used in trace file keys and topic URNs. Default `local-1`. */
  readonly region: string
  /** Days traces stay queryable before the retention job deletes them. Default 7. */
  readonly retentionDays: number
  /** How often the retention job runs, ms. Default 60 000. */
  readonly purgeIntervalMs: number
  /**
   * The most traces a search (`q=`) may look at: those its window and exact filters select.
   * Past it the query is refused with a 400 saying how to narrow it. Default 1 000 000.
   */
  readonly searchMaxScan: number
  /** Log level of the JSON-lines request log: fatal|error|warn|info|debug|silent. Default info. */
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent'
  /**
   * Where the store is: `sqlite:PATH` (the embedded default, `<dataDir>/opencts.db`) or
   * `postgres://user@host:port/database` (several nodes may share it). Default `sqlite:<dataDir>/opencts.db`.
   */
  readonly store: string
  /** Connections each node opens to PostgreSQL at most (1 .. 200). Default 10. */
  readonly storePoolSize: number
  /** SQLite durability: NORMAL (survives process crashes, default) or FULL (also power loss). */
  readonly sqliteSynchronous: 'NORMAL' | 'FULL'
  /** File of the master key sealing secret keys at rest, kept outside the database. Default `<dataDir>/master.key`. */
  readonly masterKeyFile: string
  /**
   * The master key itself, base64 of 32 bytes as in the key file (environment only, e.g. from a
   * secret store, so that many nodes share one key without a file); when set, the file is unused.
   */
  readonly masterKey: string
  /** Failed authentications tolerated from one source address within the lockout period. Default 10. */
  readonly authFailureLimit: number
  /** How long a source that exceeded the limit is answered 429, seconds (also the counting window). Default 300. */
  readonly authLockoutSeconds: number
  /** Accept AK/SK requests whose body is not signed (`X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`, signed). Default true. */
  readonly allowUnsignedPayload: boolean
  /** How often each tracker's new traces are delivered to object storage, ms (1 000 .. 3 600 000). Default 60 000. */
  readonly transferIntervalMs: number
  /** Digest period of trackers with `is_support_validate`, seconds (1 .. 86 400). Default 3 600. */
  readonly digestPeriodSeconds: number
  /** Age after which the digest signing key is replaced by a new one, days. Default 30. */
  readonly signingKeyRotationDays: number
  /** Folder holding the buckets when no S3 endpoint is set. Default `<dataDir>/objects`. */
  readonly objectsDir: string
  /** S3-compatible endpoint holding the buckets (`http(s)://host:port`); empty: the local folder. */
  readonly s3Endpoint: string
  /** Region sent to the S3 endpoint. Default `us-east-1`. */
  readonly s3Region: string
  /** Access key of the S3 endpoint (required with `s3Endpoint`, no default). */
  readonly s3AccessKey: string
  /** Secret key of the S3 endpoint (environment only; required with `s3Endpoint`, no default). */
  readonly s3SecretKey: string
  /** Path-style S3 addressing (`endpoint/bucket/key`). Default true (self-hosted stores need it). */
  readonly s3PathStyle: boolean
  /** SMTP server of email notifications; empty (the default): email is off. */
  readonly smtpHost: string
  /** SMTP port. Default 587 (submission; 465 with `smtpSecure`). */
  readonly smtpPort: number
  /** Implicit TLS from the first byte (SMTPS). Default false. */
  readonly smtpSecure: boolean
  /** Fail unless the server upgrades with STARTTLS (else STARTTLS is used when offered). Default false. */
  readonly smtpRequireTls: boolean
  /** SMTP AUTH user; empty (the default): no AUTH. */
  readonly smtpUser: string
  /** SMTP AUTH password (environment only; required with `smtpUser`, no default). */
  readonly smtpPassword: string
  /** From address of notification emails. Default `opencts@localhost`. */
  readonly smtpFrom: string
  /** PEM file of a CA trusted for the SMTP server's certificate, besides the bundled roots. Default none. */
  readonly smtpCaFile: string
  /** Attempts of a notification delivery before it goes to the dead letters. Default 8. */
  readonly deliveryMaxAttempts: number
  /** Backoff before the second attempt, ms; doubles each time (with jitter). Default 1 000. */
  readonly deliveryBackoffMs: number
  /** Longest backoff between two attempts, ms. Default 300 000. */
  readonly deliveryMaxBackoffMs: number
  /** How long a webhook may take to answer, ms. Default 10 000. */
  readonly deliveryTimeoutMs: number
  /** PEM CA bundle trusted for HTTPS deliveries besides the system's; empty: system only. */
  readonly deliveryCaFile: string
  /** OTLP/HTTP receiver of the log streams (`http(s)://host:port`, `/v1/logs` added, or the exact URL); empty (the default): off. */
  readonly logStreamOtlpUrl: string
  /** Syslog receiver of the log streams, `tcp://host:port` or `udp://host:port` (`?facility=local0`); empty (the default): off. */
  readonly logStreamSyslog: string
  /** JSON-lines file the log streams are appended to; empty (the default): off. */
  readonly logStreamFile: string
  /** How often the log streams catch up besides right after commits, ms. Default 1 000. */
  readonly logStreamIntervalMs: number
  /**
   * What a log-stream record holds: `cts` (default: the trace in the file representation, as
   * transferred files), or a format of the registry (`ocsf`, `cadf`, `cef`, `ecs`, `splunk-hec`,
   * `json`; docs/formats.md).
   */
  readonly logStreamFormat: string
  /** Append every stored trace to its project's Merkle log (in the same transaction). Default true. */
  readonly merkleLog: boolean
  /** How often a project's log gets a new signed checkpoint while it grows, ms. Default 1 000. */
  readonly checkpointIntervalMs: number
  /** Key name of the checkpoint signatures (C2SP note key name). Default `opencts`. */
  readonly logKeyName: string
  /** How often every enabled alarm rule is evaluated, seconds (docs/alarms.md). Default 60. */
  readonly alarmIntervalSeconds: number
  /**
   * Request-body bytes admitted at once across all requests (ingest batches above all); a body that
   * would exceed it is answered 503 OCTS.0504 with Retry-After. Default 16 777 216 (16 MiB).
   */
  readonly maxInFlightBodyBytes: number
  /**
   * Worker threads that parse, normalise and hash ingest batches off the event loop; 0 does it all
   * on the event loop. Default min(2, available parallelism).
   */
  readonly ingestWorkers: number
  /** Time to receive a request's headers, ms (at most requestTimeoutMs). Default 30 000. */
  readonly headersTimeoutMs: number
  /** Time to receive a whole request, body included, ms; then 408. Default 120 000. */
  readonly requestTimeoutMs: number
  /** Run the insight detectors (docs/insights.md). Default true. */
  readonly insights: boolean
  /** How often the detectors read the new traces, ms (100 .. 3 600 000). Default 5 000. */
  readonly insightsIntervalMs: number
  /** Span of the per-minute baseline of rate insights, minutes (5 .. 10 080). Default 60. */
  readonly insightsBaselineMinutes: number
  /** Minutes a baseline must have seen before a rate insight (1 .. 10 080). Default 30. */
  readonly insightsWarmupMinutes: number
  /** Deviations above the baseline average that make an anomaly (0.5 .. 100). Default 4. */
  readonly insightsSigma: number
  /** Calls in a minute a call-rate insight needs at least (1 .. 1 000 000). Default 10. */
  readonly insightsMinCalls: number
  /** Errors in a minute an error-rate insight needs at least (1 .. 1 000 000). Default 5. */
  readonly insightsMinErrors: number
  /** Denied calls (401/403) of one user or source IP in a minute that make a burst (1 .. 1 000 000). Default 20. */
  readonly insightsDeniedThreshold: number
  /** Series each detector tracks at most, least recently used evicted (100 .. 1 000 000). Default 10 000. */
  readonly insightsMaxSeries: number
  /** High-risk operations, `SERVICE:trace_name` comma-separated; `none` for none. Default: deletes of images, trackers, keys. */
  readonly insightsHighRisk: readonly string[]
  /** How long a minute waits for late traces after the clock passed it, ms (0 .. 600 000). Default 30 000. */
  readonly insightsLatenessMs: number
  /** Where buckets live, derived from the settings above. */
  readonly objectStore: ObjectStoreConfig
  /** First-start administrator values (environment only); anything not given is generated. */
  readonly admin: AdminBootstrap
}

/** A local folder of buckets, or an S3-compatible endpoint (the shape of transfer's ObjectStoreSettings). */
export type ObjectStoreConfig =
  | { readonly kind: 'fs'; readonly root: string }
  | {
      readonly kind: 's3'
      readonly endpoint: string
      readonly region: string
      readonly accessKeyId: string
      readonly secretAccessKey: string
      readonly forcePathStyle: boolean
    }

/** `OPENCTS_ADMIN_*`: used only when the data directory holds no account yet. */
export interface AdminBootstrap {
  readonly account?: string
  readonly user?: string
  readonly password?: string
  readonly project?: string
  /** 32 lowercase hex, e.g. to keep the id a project had on another cloud; random if not given. */
  readonly projectId?: string
  readonly accessKey?: string
  readonly secretKey?: string
}

export const DEFAULTS: OpenCtsConfig = Object.freeze({
  host: '127.0.0.1',
  port: 8088,
  dataDir: '.opencts',
  region: 'local-1',
  retentionDays: 7,
  purgeIntervalMs: 60_000,
  searchMaxScan: 1_000_000,
  logLevel: 'info',
  store: '',
  storePoolSize: 10,
  sqliteSynchronous: 'NORMAL',
  masterKeyFile: '',
  masterKey: '',
  authFailureLimit: 10,
  authLockoutSeconds: 300,
  allowUnsignedPayload: true,
  transferIntervalMs: 60_000,
  digestPeriodSeconds: 3_600,
  signingKeyRotationDays: 30,
  objectsDir: '',
  s3Endpoint: '',
  s3Region: 'us-east-1',
  s3AccessKey: '',
  s3SecretKey: '',
  s3PathStyle: true,
  smtpHost: '',
  smtpPort: 587,
  smtpSecure: false,
  smtpRequireTls: false,
  smtpUser: '',
  smtpPassword: '',
  smtpFrom: 'opencts@localhost',
  smtpCaFile: '',
  deliveryMaxAttempts: 8,
  deliveryBackoffMs: 1_000,
  deliveryMaxBackoffMs: 300_000,
  deliveryTimeoutMs: 10_000,
  deliveryCaFile: '',
  logStreamOtlpUrl: '',
  logStreamSyslog: '',
  logStreamFile: '',
  logStreamIntervalMs: 1_000,
  logStreamFormat: 'cts',
  merkleLog: true,
  checkpointIntervalMs: 1_000,
  logKeyName: 'opencts',
  alarmIntervalSeconds: 60,
  maxInFlightBodyBytes: 16 * 1024 * 1024,
  ingestWorkers: Math.min(2, availableParallelism()),
  headersTimeoutMs: 30_000,
  requestTimeoutMs: 120_000,
  insights: true,
  insightsIntervalMs: 5_000,
  insightsBaselineMinutes: DEFAULT_DETECTOR_SETTINGS.baselineMinutes,
  insightsWarmupMinutes: DEFAULT_DETECTOR_SETTINGS.warmupMinutes,
  insightsSigma: DEFAULT_DETECTOR_SETTINGS.sigma,
  insightsMinCalls: DEFAULT_DETECTOR_SETTINGS.minCalls,
  insightsMinErrors: DEFAULT_DETECTOR_SETTINGS.minErrors,
  insightsDeniedThreshold: DEFAULT_DETECTOR_SETTINGS.deniedThreshold,
  insightsMaxSeries: DEFAULT_DETECTOR_SETTINGS.maxSeries,
  insightsHighRisk: DEFAULT_HIGH_RISK_OPERATIONS,
  insightsLatenessMs: DEFAULT_DETECTOR_SETTINGS.latenessMs,
  objectStore: Object.freeze({ kind: 'fs', root: '' }),
  admin: Object.freeze({}),
})

/** Raw settings by config key, e.g. from flags. Undefined means "not given". */
export type ConfigInput = Partial<Record<SettingKey, string | undefined>>

/** Settings given as one string (by flag or environment variable). */
export type SettingKey = Exclude<keyof OpenCtsConfig, 'admin' | 'objectStore'>

const ENV_NAMES: Record<SettingKey, string> = {
  host: 'OPENCTS_HOST',
  port: 'OPENCTS_PORT',
  dataDir: 'OPENCTS_DATA_DIR',
  region: 'OPENCTS_REGION',
  retentionDays: 'OPENCTS_RETENTION_DAYS',
  purgeIntervalMs: 'OPENCTS_PURGE_INTERVAL_MS',
  searchMaxScan: 'OPENCTS_SEARCH_MAX_SCAN',
  logLevel: 'OPENCTS_LOG_LEVEL',
  store: 'OPENCTS_STORE',
  storePoolSize: 'OPENCTS_STORE_POOL_SIZE',
  sqliteSynchronous: 'OPENCTS_SQLITE_SYNCHRONOUS',
  masterKeyFile: 'OPENCTS_MASTER_KEY_FILE',
  masterKey: 'OPENCTS_MASTER_KEY',
  authFailureLimit: 'OPENCTS_AUTH_FAILURE_LIMIT',
  authLockoutSeconds: 'OPENCTS_AUTH_LOCKOUT_SECONDS',
  allowUnsignedPayload: 'OPENCTS_ALLOW_UNSIGNED_PAYLOAD',
  transferIntervalMs: 'OPENCTS_TRANSFER_INTERVAL_MS',
  digestPeriodSeconds: 'OPENCTS_DIGEST_PERIOD_SECONDS',
  signingKeyRotationDays: 'OPENCTS_SIGNING_KEY_ROTATION_DAYS',
  objectsDir: 'OPENCTS_OBJECTS_DIR',
  s3Endpoint: 'OPENCTS_S3_ENDPOINT',
  s3Region: 'OPENCTS_S3_REGION',
  s3AccessKey: 'OPENCTS_S3_ACCESS_KEY',
  s3SecretKey: 'OPENCTS_S3_SECRET_KEY',
  s3PathStyle: 'OPENCTS_S3_PATH_STYLE',
  deliveryMaxAttempts: 'OPENCTS_DELIVERY_MAX_ATTEMPTS',
  deliveryBackoffMs: 'OPENCTS_DELIVERY_BACKOFF_MS',
  deliveryMaxBackoffMs: 'OPENCTS_DELIVERY_MAX_BACKOFF_MS',
  deliveryTimeoutMs: 'OPENCTS_DELIVERY_TIMEOUT_MS',
  deliveryCaFile: 'OPENCTS_DELIVERY_CA_FILE',
  smtpHost: 'OPENCTS_SMTP_HOST',
  smtpPort: 'OPENCTS_SMTP_PORT',
  smtpSecure: 'OPENCTS_SMTP_SECURE',
  smtpRequireTls: 'OPENCTS_SMTP_REQUIRE_TLS',
  smtpUser: 'OPENCTS_SMTP_USER',
  smtpPassword: 'OPENCTS_SMTP_PASSWORD',
  smtpFrom: 'OPENCTS_SMTP_FROM',
  smtpCaFile: 'OPENCTS_SMTP_CA_FILE',
  logStreamOtlpUrl: 'OPENCTS_LOG_STREAM_OTLP_URL',
  logStreamSyslog: 'OPENCTS_LOG_STREAM_SYSLOG',
  logStreamFile: 'OPENCTS_LOG_STREAM_FILE',
  logStreamIntervalMs: 'OPENCTS_LOG_STREAM_INTERVAL_MS',
  logStreamFormat: 'OPENCTS_LOG_STREAM_FORMAT',
  insights: 'OPENCTS_INSIGHTS',
  insightsIntervalMs: 'OPENCTS_INSIGHTS_INTERVAL_MS',
  insightsBaselineMinutes: 'OPENCTS_INSIGHTS_BASELINE_MINUTES',
  insightsWarmupMinutes: 'OPENCTS_INSIGHTS_WARMUP_MINUTES',
  insightsSigma: 'OPENCTS_INSIGHTS_SIGMA',
  insightsMinCalls: 'OPENCTS_INSIGHTS_MIN_CALLS',
  insightsMinErrors: 'OPENCTS_INSIGHTS_MIN_ERRORS',
  insightsDeniedThreshold: 'OPENCTS_INSIGHTS_DENIED_THRESHOLD',
  insightsMaxSeries: 'OPENCTS_INSIGHTS_MAX_SERIES',
  insightsHighRisk: 'OPENCTS_INSIGHTS_HIGH_RISK',
  insightsLatenessMs: 'OPENCTS_INSIGHTS_LATENESS_MS',
  merkleLog: 'OPENCTS_MERKLE_LOG',
  checkpointIntervalMs: 'OPENCTS_CHECKPOINT_INTERVAL_MS',
  logKeyName: 'OPENCTS_LOG_KEY_NAME',
  alarmIntervalSeconds: 'OPENCTS_ALARM_INTERVAL',
  maxInFlightBodyBytes: 'OPENCTS_MAX_INFLIGHT_BODY_BYTES',
  ingestWorkers: 'OPENCTS_INGEST_WORKERS',
  headersTimeoutMs: 'OPENCTS_HEADERS_TIMEOUT_MS',
  requestTimeoutMs: 'OPENCTS_REQUEST_TIMEOUT_MS',
}

/** Environment variables of the first-start administrator. */
export const ADMIN_ENV_NAMES: Readonly<Record<keyof AdminBootstrap, string>> = {
  account: 'OPENCTS_ADMIN_ACCOUNT',
  user: 'OPENCTS_ADMIN_USER',
  password: 'OPENCTS_ADMIN_PASSWORD',
  project: 'OPENCTS_ADMIN_PROJECT',
  projectId: 'OPENCTS_ADMIN_PROJECT_ID',
  accessKey: 'OPENCTS_ADMIN_ACCESS_KEY',
  secretKey: 'OPENCTS_ADMIN_SECRET_KEY',
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

function integer(key: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new ConfigError(
      `${key} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`,
    )
  }
  return Number(text)
}

/** `sqlite:PATH` (made absolute) or a `postgres://` / `postgresql://` URL. */
function storeUrl(text: string): string {
  if (text.startsWith('sqlite:')) {
    const path = text.slice('sqlite:'.length)
    if (path === '')
      throw new ConfigError('store sqlite: needs a file path, e.g. sqlite:./opencts.db')
    return path === ':memory:' ? text : `sqlite:${resolve(path)}`
  }
  if (/^postgres(ql)?:\/\//.test(text)) {
    try {
      new URL(text)
    } catch {
      throw new ConfigError(
        `store is not a valid postgres:// URL: ${JSON.stringify(redactUrl(text))}`,
      )
    }
    return text
  }
  throw new ConfigError(
    `store must be sqlite:PATH or postgres://user@host:port/database, got ${JSON.stringify(redactUrl(text))}`,
  )
}

/** The URL without its password (safe to print). */
export function redactUrl(text: string): string {
  return text.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, '$1***@')
}

/** OPENCTS_MASTER_KEY: 32 bytes in base64 (what `master.key` holds), or '' when not set. */
function masterKeyText(text: string | undefined): string {
  const trimmed = (text ?? '').trim()
  if (trimmed === '') return ''
  if (!/^[A-Za-z0-9+/]{43}=$/.test(trimmed))
    throw new ConfigError(
      'OPENCTS_MASTER_KEY must be 32 bytes in base64 (44 characters, as in a master.key file)',
    )
  return trimmed
}

/** A C2SP note key name: printable, no space or `+`. */
function keyName(key: string, text: string): string {
  if (!/^[\x21-\x2a\x2c-\x7e]{1,64}$/.test(text))
    throw new ConfigError(
      `${key} must be 1 to 64 printable ASCII characters without spaces or "+", got ${JSON.stringify(text)}`,
    )
  return text
}

function oneOf<T extends string>(key: string, text: string, values: readonly T[]): T {
  if (!(values as readonly string[]).includes(text))
    throw new ConfigError(`${key} must be one of ${values.join(', ')}, got ${JSON.stringify(text)}`)
  return text as T
}

/**
 * Merges environment (`OPENCTS_*`) and flags over the defaults and validates the result.
 * Throws ConfigError naming the setting on an invalid value.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  flags: ConfigInput = {},
): OpenCtsConfig {
  const pick = (key: SettingKey): string | undefined => {
    const flag = flags[key]
    if (flag !== undefined) return flag
    const fromEnv = env[ENV_NAMES[key]]
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv
  }
  const host = pick('host') ?? DEFAULTS.host
  const region = pick('region') ?? DEFAULTS.region
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(region))
    throw new ConfigError(
      `region must be lowercase letters, digits and -, got ${JSON.stringify(region)}`,
    )
  const port = pick('port')
  const retention = pick('retentionDays')
  const purge = pick('purgeIntervalMs')
  const searchMaxScan = pick('searchMaxScan')
  const logLevel = pick('logLevel')
  const sync = pick('sqliteSynchronous')
  const dataDir = resolve(pick('dataDir') ?? DEFAULTS.dataDir)
  const masterKeyFile = pick('masterKeyFile')
  const store = storeUrl(pick('store') ?? `sqlite:${join(dataDir, 'opencts.db')}`)
  const poolSize = pick('storePoolSize')
  const failureLimit = pick('authFailureLimit')
  const lockout = pick('authLockoutSeconds')
  const unsigned = pick('allowUnsignedPayload')
  const merkleLog = pick('merkleLog')
  const checkpointInterval = pick('checkpointIntervalMs')
  const logKeyName = pick('logKeyName')
  const alarmInterval = pick('alarmIntervalSeconds')
  const transferInterval = pick('transferIntervalMs')
  const digestPeriod = pick('digestPeriodSeconds')
  const rotation = pick('signingKeyRotationDays')
  const objectsDir = resolve(pick('objectsDir') ?? join(dataDir, 'objects'))
  const s3 = s3Settings(pick)
  const smtp = smtpSettings(pick)
  const admin: Record<string, string> = {}
  for (const [key, name] of Object.entries(ADMIN_ENV_NAMES)) {
    const value = env[name]
    if (value !== undefined && value !== '') admin[key] = value
  }
  return Object.freeze({
    host,
    port: port === undefined ? DEFAULTS.port : integer('port', port, 0, 65535),
    dataDir,
    region,
    retentionDays:
      retention === undefined
        ? DEFAULTS.retentionDays
        : integer('retentionDays', retention, 1, 3650),
    purgeIntervalMs:
      purge === undefined
        ? DEFAULTS.purgeIntervalMs
        : integer('purgeIntervalMs', purge, 100, 86_400_000),
    searchMaxScan:
      searchMaxScan === undefined
        ? DEFAULTS.searchMaxScan
        : integer('searchMaxScan', searchMaxScan, 1000, 100_000_000),
    logLevel:
      logLevel === undefined
        ? DEFAULTS.logLevel
        : oneOf('logLevel', logLevel, [
            'fatal',
            'error',
            'warn',
            'info',
            'debug',
            'silent',
          ] as const),
    store,
    storePoolSize:
      poolSize === undefined ? DEFAULTS.storePoolSize : integer('storePoolSize', poolSize, 1, 200),
    sqliteSynchronous:
      sync === undefined
        ? DEFAULTS.sqliteSynchronous
        : oneOf('sqliteSynchronous', sync, ['NORMAL', 'FULL'] as const),
    masterKeyFile:
      masterKeyFile === undefined ? join(dataDir, 'master.key') : resolve(masterKeyFile),
    masterKey: masterKeyText(env[ENV_NAMES.masterKey]),
    authFailureLimit:
      failureLimit === undefined
        ? DEFAULTS.authFailureLimit
        : integer('authFailureLimit', failureLimit, 1, 1_000_000),
    authLockoutSeconds:
      lockout === undefined
        ? DEFAULTS.authLockoutSeconds
        : integer('authLockoutSeconds', lockout, 1, 86_400),
    allowUnsignedPayload:
      unsigned === undefined
        ? DEFAULTS.allowUnsignedPayload
        : oneOf('allowUnsignedPayload', unsigned, ['true', 'false'] as const) === 'true',
    merkleLog:
      merkleLog === undefined
        ? DEFAULTS.merkleLog
        : oneOf('merkleLog', merkleLog, ['true', 'false'] as const) === 'true',
    checkpointIntervalMs:
      checkpointInterval === undefined
        ? DEFAULTS.checkpointIntervalMs
        : integer('checkpointIntervalMs', checkpointInterval, 1_000, 3_600_000),
    logKeyName:
      logKeyName === undefined || logKeyName === ''
        ? DEFAULTS.logKeyName
        : keyName('logKeyName', logKeyName),
    alarmIntervalSeconds:
      alarmInterval === undefined
        ? DEFAULTS.alarmIntervalSeconds
        : integer('alarmIntervalSeconds', alarmInterval, 1, 3_600),
    transferIntervalMs:
      transferInterval === undefined
        ? DEFAULTS.transferIntervalMs
        : integer('transferIntervalMs', transferInterval, 1_000, 3_600_000),
    digestPeriodSeconds:
      digestPeriod === undefined
        ? DEFAULTS.digestPeriodSeconds
        : integer('digestPeriodSeconds', digestPeriod, 1, 86_400),
    signingKeyRotationDays:
      rotation === undefined
        ? DEFAULTS.signingKeyRotationDays
        : integer('signingKeyRotationDays', rotation, 1, 3650),
    objectsDir,
    ...s3,
    ...deliverySettings(pick),
    ...smtp,
    ...logStreamSettings(pick),
    ...transportSettings(pick),
    ...insightSettings(pick),
    objectStore: Object.freeze(
      s3.s3Endpoint === ''
        ? { kind: 'fs' as const, root: objectsDir }
        : {
            kind: 's3' as const,
            endpoint: s3.s3Endpoint,
            region: s3.s3Region,
            accessKeyId: s3.s3AccessKey,
            secretAccessKey: s3.s3SecretKey,
            forcePathStyle: s3.s3PathStyle,
          },
    ),
    admin: Object.freeze(admin as AdminBootstrap),
  })
}

type DeliveryKeys =
  | 'deliveryMaxAttempts'
  | 'deliveryBackoffMs'
  | 'deliveryMaxBackoffMs'
  | 'deliveryTimeoutMs'
  | 'deliveryCaFile'

/** Retry policy, timeout and CA bundle of notification deliveries. */
function deliverySettings(
  pick: (key: SettingKey) => string | undefined,
): Pick<OpenCtsConfig, DeliveryKeys> {
  const num = (key: DeliveryKeys, min: number, max: number): number => {
    const text = pick(key)
    return text === undefined ? (DEFAULTS[key] as number) : integer(key, text, min, max)
  }
  const caFile = pick('deliveryCaFile')
  return {
    deliveryMaxAttempts: num('deliveryMaxAttempts', 1, 100),
    deliveryBackoffMs: num('deliveryBackoffMs', 1, 3_600_000),
    deliveryMaxBackoffMs: num('deliveryMaxBackoffMs', 1, 86_400_000),
    deliveryTimeoutMs: num('deliveryTimeoutMs', 100, 300_000),
    deliveryCaFile: caFile === undefined ? '' : resolve(caFile),
  }
}

type S3Keys = 's3Endpoint' | 's3Region' | 's3AccessKey' | 's3SecretKey' | 's3PathStyle'

/** The S3 settings; an endpoint requires both keys (secrets have no defaults). */
function s3Settings(pick: (key: SettingKey) => string | undefined): Pick<OpenCtsConfig, S3Keys> {
  const endpoint = pick('s3Endpoint') ?? ''
  if (endpoint !== '') {
    let url: URL
    try {
      url = new URL(endpoint)
    } catch {
      throw new ConfigError(`s3Endpoint must be an http(s) URL, got ${JSON.stringify(endpoint)}`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new ConfigError(`s3Endpoint must be an http(s) URL, got ${JSON.stringify(endpoint)}`)
  }
  const accessKey = pick('s3AccessKey') ?? ''
  const secretKey = pick('s3SecretKey') ?? ''
  if (endpoint !== '' && (accessKey === '' || secretKey === ''))
    throw new ConfigError(
      's3Endpoint is set, so OPENCTS_S3_ACCESS_KEY and OPENCTS_S3_SECRET_KEY are required',
    )
  const pathStyle = pick('s3PathStyle')
  return {
    s3Endpoint: endpoint.replace(/\/+$/, ''),
    s3Region: pick('s3Region') ?? DEFAULTS.s3Region,
    s3AccessKey: accessKey,
    s3SecretKey: secretKey,
    s3PathStyle:
      pathStyle === undefined
        ? DEFAULTS.s3PathStyle
        : oneOf('s3PathStyle', pathStyle, ['true', 'false'] as const) === 'true',
  }
}

type SmtpKeys =
  | 'smtpHost'
  | 'smtpPort'
  | 'smtpSecure'
  | 'smtpRequireTls'
  | 'smtpUser'
  | 'smtpPassword'
  | 'smtpFrom'
  | 'smtpCaFile'

/** The SMTP settings of email notifications; a user requires a password (no default). */
function smtpSettings(
  pick: (key: SettingKey) => string | undefined,
): Pick<OpenCtsConfig, SmtpKeys> {
  const host = pick('smtpHost') ?? ''
  if (host !== '' && !/^[^\s/]+$/.test(host))
    throw new ConfigError(`smtpHost must be a host name or IP address, got ${JSON.stringify(host)}`)
  const user = pick('smtpUser') ?? ''
  const password = pick('smtpPassword') ?? ''
  if (host !== '' && user !== '' && password === '')
    throw new ConfigError('smtpUser is set, so OPENCTS_SMTP_PASSWORD is required')
  if (host !== '' && user === '' && password !== '')
    throw new ConfigError('smtpPassword is set, so OPENCTS_SMTP_USER is required')
  const from = pick('smtpFrom') ?? DEFAULTS.smtpFrom
  if (!/^(?:[^\r\n<>]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/.test(from))
    throw new ConfigError(
      `smtpFrom must be an address (a@b or Name <a@b>), got ${JSON.stringify(from)}`,
    )
  const port = pick('smtpPort')
  const secure = pick('smtpSecure')
  const requireTls = pick('smtpRequireTls')
  const caFile = pick('smtpCaFile')
  return {
    smtpHost: host,
    smtpPort: port === undefined ? DEFAULTS.smtpPort : integer('smtpPort', port, 1, 65535),
    smtpSecure:
      secure === undefined
        ? DEFAULTS.smtpSecure
        : oneOf('smtpSecure', secure, ['true', 'false'] as const) === 'true',
    smtpRequireTls:
      requireTls === undefined
        ? DEFAULTS.smtpRequireTls
        : oneOf('smtpRequireTls', requireTls, ['true', 'false'] as const) === 'true',
    smtpUser: user,
    smtpPassword: password,
    smtpFrom: from,
    smtpCaFile: caFile === undefined ? DEFAULTS.smtpCaFile : resolve(caFile),
  }
}

type TransportKeys =
  'maxInFlightBodyBytes' | 'ingestWorkers' | 'headersTimeoutMs' | 'requestTimeoutMs'

/** Memory and time bounds of incoming requests (docs/api.md "Limits"). */
function transportSettings(
  pick: (key: SettingKey) => string | undefined,
): Pick<OpenCtsConfig, TransportKeys> {
  const num = (key: TransportKeys, min: number, max: number): number => {
    const text = pick(key)
    return text === undefined ? DEFAULTS[key] : integer(key, text, min, max)
  }
  const headersTimeoutMs = num('headersTimeoutMs', 100, 3_600_000)
  const requestTimeoutMs = num('requestTimeoutMs', 100, 3_600_000)
  if (headersTimeoutMs > requestTimeoutMs)
    throw new ConfigError(
      `headersTimeoutMs (${headersTimeoutMs}) must not exceed requestTimeoutMs (${requestTimeoutMs})`,
    )
  return {
    maxInFlightBodyBytes: num('maxInFlightBodyBytes', 1024, 4 * 1024 * 1024 * 1024),
    ingestWorkers: num('ingestWorkers', 0, 64),
    headersTimeoutMs,
    requestTimeoutMs,
  }
}

type LogStreamKeys =
  | 'logStreamOtlpUrl'
  | 'logStreamSyslog'
  | 'logStreamFile'
  | 'logStreamIntervalMs'
  | 'logStreamFormat'

/** The log stream sinks (each off when empty) and their interval. */
function logStreamSettings(
  pick: (key: SettingKey) => string | undefined,
): Pick<OpenCtsConfig, LogStreamKeys> {
  const parse = (text: string): URL | null => {
    try {
      return new URL(text)
    } catch {
      return null
    }
  }
  const otlp = pick('logStreamOtlpUrl') ?? ''
  if (otlp !== '' && !/^https?:$/.test(parse(otlp)?.protocol ?? ''))
    throw new ConfigError(`logStreamOtlpUrl must be an http(s) URL, got ${JSON.stringify(otlp)}`)
  const syslog = pick('logStreamSyslog') ?? ''
  const target = syslog === '' ? undefined : parse(syslog)
  const facility = target?.searchParams.get('facility') ?? 'local0'
  if (
    target === null ||
    (target !== undefined &&
      (!/^(tcp|udp):$/.test(target.protocol) ||
        target.hostname === '' ||
        target.port === '' ||
        target.port === '0' ||
        !['', '/'].includes(target.pathname) ||
        [...target.searchParams.keys()].some((key) => key !== 'facility') ||
        !/^(local[0-7]|1?[0-9]|2[0-3])$/.test(facility)))
  )
    throw new ConfigError(
      `logStreamSyslog must be tcp://host:port or udp://host:port (optionally ?facility=local0..local7), got ${JSON.stringify(syslog)}`,
    )
  const file = pick('logStreamFile')
  const interval = pick('logStreamIntervalMs')
  const format = pick('logStreamFormat') ?? DEFAULTS.logStreamFormat
  if (!LOG_STREAM_FORMATS.includes(format))
    throw new ConfigError(
      `logStreamFormat must be one of ${LOG_STREAM_FORMATS.join(', ')}, got ${JSON.stringify(format)}`,
    )
  return {
    logStreamFormat: format,
    logStreamOtlpUrl: otlp,
    logStreamSyslog: syslog,
    logStreamFile: file === undefined ? '' : resolve(file),
    logStreamIntervalMs:
      interval === undefined
        ? DEFAULTS.logStreamIntervalMs
        : integer('logStreamIntervalMs', interval, 100, 3_600_000),
  }
}

/** The environment variable of each setting (for --help and docs). */
export const CONFIG_ENV_NAMES: Readonly<Record<SettingKey, string>> = ENV_NAMES

type InsightKeys =
  | 'insights'
  | 'insightsIntervalMs'
  | 'insightsBaselineMinutes'
  | 'insightsWarmupMinutes'
  | 'insightsSigma'
  | 'insightsMinCalls'
  | 'insightsMinErrors'
  | 'insightsDeniedThreshold'
  | 'insightsMaxSeries'
  | 'insightsHighRisk'
  | 'insightsLatenessMs'

/** The insight detectors' settings (docs/insights.md). */
function insightSettings(
  pick: (key: SettingKey) => string | undefined,
): Pick<OpenCtsConfig, InsightKeys> {
  const num = (key: InsightKeys, min: number, max: number): number => {
    const text = pick(key)
    return text === undefined ? (DEFAULTS[key] as number) : integer(key, text, min, max)
  }
  const enabled = pick('insights')
  const sigma = pick('insightsSigma')
  if (
    sigma !== undefined &&
    !(/^\d{1,3}(\.\d{1,3})?$/.test(sigma) && Number(sigma) >= 0.5 && Number(sigma) <= 100)
  )
    throw new ConfigError(
      `insightsSigma must be a number from 0.5 to 100, got ${JSON.stringify(sigma)}`,
    )
  return {
    insights:
      enabled === undefined
        ? DEFAULTS.insights
        : oneOf('insights', enabled, ['true', 'false'] as const) === 'true',
    insightsIntervalMs: num('insightsIntervalMs', 100, 3_600_000),
    insightsBaselineMinutes: num('insightsBaselineMinutes', 5, 10_080),
    insightsWarmupMinutes: num('insightsWarmupMinutes', 1, 10_080),
    insightsSigma: sigma === undefined ? DEFAULTS.insightsSigma : Number(sigma),
    insightsMinCalls: num('insightsMinCalls', 1, 1_000_000),
    insightsMinErrors: num('insightsMinErrors', 1, 1_000_000),
    insightsDeniedThreshold: num('insightsDeniedThreshold', 1, 1_000_000),
    insightsMaxSeries: num('insightsMaxSeries', 100, 1_000_000),
    insightsHighRisk: highRiskList(pick('insightsHighRisk')),
    insightsLatenessMs: num('insightsLatenessMs', 0, 600_000),
  }
}

/** `SERVICE:trace_name` entries, comma-separated; `none` for none. */
function highRiskList(text: string | undefined): readonly string[] {
  if (text === undefined) return DEFAULTS.insightsHighRisk
  if (text.trim() === 'none') return Object.freeze([])
  const entries = text.split(',').map((entry) => entry.trim())
  for (const entry of entries)
    if (!/^[A-Za-z0-9_.-]{1,64}:[A-Za-z0-9_.-]{1,64}$/.test(entry))
      throw new ConfigError(
        `insightsHighRisk must be SERVICE:trace_name entries separated by commas (or none), got ${JSON.stringify(entry)}`,
      )
  return Object.freeze(entries)
}
