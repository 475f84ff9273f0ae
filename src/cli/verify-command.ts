/**
 * @module cli/verify-command
 * `opencts verify`: offline verification of the trace files and signed digests a tracker delivered
 * into a bucket (a local folder or any S3-compatible store), with `transfer/verify`. Needs no
 * server: only read access to the bucket, the published public keys (`--public-keys`) and, to
 * check the content of encrypted files, an exported key file (`--keys`).
 *
 * Exit statuses: 0 everything verified, 1 any finding (or the store failed), 2 usage error (a bad
 * flag, an unreadable or invalid keys file, several projects in the folder without
 * `--project-id`). S3 secrets come from the environment only.
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { isOpenCtsError } from '../errors/index.js'
import type { MasterKeyVersion } from '../transfer/envelope.js'
import { parseKeyFile } from '../transfer/kms-keys.js'
import type { ObjectStoreSettings } from '../transfer/object-sink.js'
import { openObjectSink } from '../transfer/open-object-sink.js'
import type { DigestKeyView } from '../transfer/signing-keys.js'
import {
  DEFAULT_GRACE_MS,
  DEFAULT_TRACKER,
  verifyBucket,
  type VerifyProgress,
} from '../transfer/verify/bucket-verifier.js'
import { parsePublicKeysFile } from '../transfer/verify/public-keys-file.js'
import { CliFailure, SettingError, UsageError, usageErrors } from './cli-errors.js'
import type { CliIo } from './cli-io.js'
import { formatVerifyReport } from './format-verify-report.js'
import { parseTimeArg } from './parse-time.js'
import { ProgressLine } from './progress-line.js'
import { VERIFY_USAGE } from './usage.js'

const VERIFY_FLAGS = {
  bucket: { type: 'string' },
  dir: { type: 'string' },
  's3-endpoint': { type: 'string' },
  's3-region': { type: 'string' },
  's3-path-style': { type: 'boolean' },
  's3-access-key': { type: 'string' },
  region: { type: 'string' },
  tracker: { type: 'string' },
  prefix: { type: 'string' },
  'project-id': { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  grace: { type: 'string' },
  'public-keys': { type: 'string' },
  keys: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

const DEFAULT_S3_REGION = 'us-east-1'
const PROJECT_ID = /^[0-9a-f]{32}$/
const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000 }

/** What the command line asks for, files not read yet. */
export interface VerifyPlan {
  readonly store: ObjectStoreSettings
  readonly bucket: string
  readonly region: string
  readonly tracker: string
  readonly prefix: string
  readonly projectId: string | undefined
  readonly from: number
  readonly to: number
  readonly graceMs: number
  readonly publicKeysFile: string
  readonly keysFile: string | undefined
  readonly json: boolean
}

/** `--grace`: a count and a unit s|m|h (`5m`, `90s`), or 0. Throws UsageError. */
export function parseDuration(text: string, flag: string): number {
  if (text === '0') return 0
  const m = /^(\d{1,6})([smh])$/.exec(text.trim())
  if (m === null)
    throw new UsageError(
      `--${flag} must be a count and a unit s, m or h (5m, 90s, 1h), got ${JSON.stringify(text)}`,
    )
  return Number(m[1]) * (DURATION_UNITS[m[2] ?? ''] ?? 0)
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`--${flag} is required`)
  return value
}

function storeSettings(
  values: { readonly [K in keyof typeof VERIFY_FLAGS]?: string | boolean },
  env: Readonly<Record<string, string | undefined>>,
): ObjectStoreSettings {
  const dir = values.dir as string | undefined
  const endpoint = values['s3-endpoint'] as string | undefined
  if ((dir === undefined) === (endpoint === undefined))
    throw new UsageError('give exactly one of --dir FOLDER and --s3-endpoint URL')
  if (dir !== undefined) {
    for (const flag of ['s3-region', 's3-path-style', 's3-access-key'] as const)
      if (values[flag] !== undefined) throw new UsageError(`--${flag} goes with --s3-endpoint`)
    return { kind: 'fs', root: required(dir, 'dir') }
  }
  if (!/^https?:\/\/[^/\s]+/.test(endpoint ?? ''))
    throw new UsageError(`--s3-endpoint must be an http(s) URL, got ${JSON.stringify(endpoint)}`)
  const accessKeyId = (values['s3-access-key'] as string | undefined) ?? env.OPENCTS_S3_ACCESS_KEY
  const secretAccessKey = env.OPENCTS_S3_SECRET_KEY
  if (accessKeyId === undefined || accessKeyId === '')
    throw new SettingError('no S3 access key: set OPENCTS_S3_ACCESS_KEY or give --s3-access-key')
  if (secretAccessKey === undefined || secretAccessKey === '')
    throw new SettingError('no S3 secret key: set OPENCTS_S3_SECRET_KEY')
  return {
    kind: 's3',
    endpoint: endpoint ?? '',
    region: (values['s3-region'] as string | undefined) ?? DEFAULT_S3_REGION,
    accessKeyId,
    secretAccessKey,
    forcePathStyle: values['s3-path-style'] === true,
  }
}

/**
 * Parses the command line of `verify` (`now` for `--to`'s default and relative times); 'help'
 * when help was asked for. Throws UsageError or SettingError (S3 credentials missing).
 */
export function parseVerifyArgs(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  now: number,
): VerifyPlan | 'help' {
  for (const arg of args)
    if (/^--s3-secret-key(?:=|$)/.test(arg))
      throw new UsageError(
        'there is no --s3-secret-key flag (a flag value shows in the process list): set OPENCTS_S3_SECRET_KEY',
      )
  const { values } = usageErrors(() =>
    parseArgs({ args: [...args], options: VERIFY_FLAGS, strict: true, allowPositionals: false }),
  )
  if (values.help === true) return 'help'
  const projectId = values['project-id']
  if (projectId !== undefined && !PROJECT_ID.test(projectId))
    throw new UsageError(
      `--project-id must be 32 lowercase hex characters, got ${JSON.stringify(projectId)}`,
    )
  const from = parseTimeArg(required(values.from, 'from'), now, 'from')
  const to = values.to === undefined ? now : parseTimeArg(values.to, now, 'to')
  if (!(from < to))
    throw new UsageError(
      `--from must be before --to, got ${new Date(from).toISOString()} and ${new Date(to).toISOString()}`,
    )
  return {
    store: storeSettings(values, env),
    bucket: required(values.bucket, 'bucket'),
    region: required(values.region, 'region'),
    tracker: values.tracker ?? DEFAULT_TRACKER,
    prefix: values.prefix ?? '',
    projectId,
    from,
    to,
    graceMs: values.grace === undefined ? DEFAULT_GRACE_MS : parseDuration(values.grace, 'grace'),
    publicKeysFile: required(values['public-keys'], 'public-keys'),
    keysFile: values.keys,
    json: values.json === true,
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

async function readSetting(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    throw new SettingError(`--${flag} ${path}: ${message(error)}`)
  }
}

async function loadKeys(
  plan: VerifyPlan,
): Promise<{ publicKeys: DigestKeyView[]; masterKeys: MasterKeyVersion[] | undefined }> {
  const text = await readSetting(plan.publicKeysFile, 'public-keys')
  let publicKeys: DigestKeyView[]
  try {
    publicKeys = parsePublicKeysFile(text)
  } catch (error) {
    throw new SettingError(`--public-keys ${plan.publicKeysFile}: ${message(error)}`)
  }
  if (plan.keysFile === undefined) return { publicKeys, masterKeys: undefined }
  const keyText = await readSetting(plan.keysFile, 'keys')
  try {
    return { publicKeys, masterKeys: parseKeyFile(keyText) }
  } catch (error) {
    throw new SettingError(`--keys ${plan.keysFile}: ${message(error)}`)
  }
}

function progressText(progress: VerifyProgress): string {
  switch (progress.stage) {
    case 'listing':
      return `verify: listing day folders ${progress.done}/${progress.total}`
    case 'digests':
      return `verify: digests ${progress.done}/${progress.total}`
    case 'files':
      return `verify: trace files ${progress.done}/${progress.total}`
  }
}

/** Runs `opencts verify`; resolves with the exit status (0 valid, 1 findings). */
export async function runVerify(args: readonly string[], io: CliIo): Promise<number> {
  const plan = parseVerifyArgs(args, io.env, io.now())
  if (plan === 'help') {
    io.stdout.write(VERIFY_USAGE)
    return 0
  }
  const { publicKeys, masterKeys } = await loadKeys(plan)
  const sink = await openObjectSink(plan.store)
  const progress = new ProgressLine(io.stderr, io.stderrIsTty, io.now)
  try {
    const report = await verifyBucket({
      sink,
      bucket: plan.bucket,
      region: plan.region,
      tracker: plan.tracker,
      prefix: plan.prefix,
      ...(plan.projectId === undefined ? {} : { projectId: plan.projectId }),
      from: plan.from,
      to: plan.to,
      graceMs: plan.graceMs,
      publicKeys,
      ...(masterKeys === undefined ? {} : { masterKeys }),
      onProgress: (p) => progress.update(progressText(p)),
    })
    progress.done()
    io.stdout.write(
      plan.json
        ? `${JSON.stringify(report, null, 2)}\n`
        : formatVerifyReport(report, sink.description),
    )
    return report.summary.ok ? 0 : 1
  } catch (error) {
    progress.done()
    if (isOpenCtsError(error) && error.code === 'OCTS_ERR_PROJECT_ID')
      throw new UsageError(`${error.message} (--project-id)`)
    if (isOpenCtsError(error)) throw new CliFailure(`${sink.description}: ${error.message}`)
    if (error instanceof RangeError) throw new UsageError(error.message)
    throw error
  } finally {
    await sink.close()
  }
}
