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
 *
 * The verifiable log modes, chosen by their flags (`log/verify-proofs`; files of `opencts log`):
 *   --proof FILE --checkpoint NOTE --log-keys KEYS      one trace and its inclusion proof
 *   --checkpoints NOTE... --log-keys KEYS [--consistency-proofs FILE...] [--offline]
 *                                                       signatures, FORKs and consistency; proofs
 *                                                       not in files come from the server of the
 *                                                       connection options (project: the origin)
 * Same exit statuses; an invalid keys or consistency-proof file is a usage error (2), a bad proof
 * or note is a finding (1).
 */
import { readFile } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import { isOpenCtsError } from '../errors/index.js'
import {
  checkCheckpoints,
  LogKeysError,
  parseLogKeysFile,
  verifyTraceProof,
  type CheckpointsReport,
  type LogKeyInput,
  type NamedNote,
  type TraceProofResult,
} from '../log/verify-proofs.js'
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
import { CliFailure, SettingError, UsageError, parseCommandLine } from './cli-errors.js'
import type { CliIo } from './cli-io.js'
import { CLIENT_FLAGS, clientOptions, refuseSecretFlags } from './client-options.js'
import { formatVerifyReport } from './format-verify-report.js'
import { LogApi } from './log-command.js'
import { parseTimeArg } from './parse-time.js'
import { ProgressLine } from './progress-line.js'
import { VERIFY_USAGE } from './usage.js'
import { runVerifyStore } from './verify-store.js'

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
  const { values } = parseCommandLine({
    args: [...args],
    options: VERIFY_FLAGS,
    strict: true,
    allowPositionals: false,
  })
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
  switch (verifyMode(args)) {
    case 'store':
      return runVerifyStore(args, io)
    case 'log':
      return runVerifyLog(args, io)
    case 'bucket':
      return runVerifyBucket(args, io)
  }
}

/** `opencts verify --bucket ...` (the default mode). */
async function runVerifyBucket(args: readonly string[], io: CliIo): Promise<number> {
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

/** Which verification the flags ask for: a store folder, the verifiable log, or a bucket. */
export type VerifyMode = 'bucket' | 'log' | 'store'

const LOG_MODE_FLAGS = new Set([
  'proof',
  'checkpoint',
  'checkpoints',
  'consistency-proofs',
  'log-keys',
  'offline',
])

/** The mode of a `verify` command line: `--store` wins, then any log flag; else a bucket. */
export function verifyMode(args: readonly string[]): VerifyMode {
  let mode: VerifyMode = 'bucket'
  for (const arg of args) {
    if (arg === '--') break
    const name = /^--([a-z0-9-]+)(?:=|$)/.exec(arg)?.[1]
    if (name === 'store') return 'store'
    if (name !== undefined && LOG_MODE_FLAGS.has(name)) mode = 'log'
  }
  return mode
}

/** The connection flags of the client commands, without `--project` (the origin gives it). */
const VERIFY_LOG_FLAGS = {
  endpoint: CLIENT_FLAGS.endpoint,
  credentials: CLIENT_FLAGS.credentials,
  profile: CLIENT_FLAGS.profile,
  token: CLIENT_FLAGS.token,
  'access-key': CLIENT_FLAGS['access-key'],
  proof: { type: 'string' },
  checkpoint: { type: 'string' },
  checkpoints: { type: 'string', multiple: true },
  'consistency-proofs': { type: 'string', multiple: true },
  'log-keys': { type: 'string' },
  offline: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

const CONNECTION_FLAG_NAMES = ['endpoint', 'credentials', 'profile', 'token', 'access-key'] as const

/** Where a `--checkpoints` run reaches the server (any unset: environment, then profile). */
export type ConnectionFlags = {
  readonly [K in (typeof CONNECTION_FLAG_NAMES)[number]]?: string
}

/** What a verifiable-log command line asks for, files not read yet. */
export type VerifyLogPlan =
  | {
      readonly kind: 'proof'
      readonly proofFile: string
      readonly checkpointFile: string
      readonly keysFile: string
      readonly json: boolean
    }
  | {
      readonly kind: 'checkpoints'
      readonly checkpointFiles: readonly string[]
      readonly proofFiles: readonly string[]
      readonly keysFile: string
      readonly offline: boolean
      readonly json: boolean
      readonly connection: ConnectionFlags
    }

/**
 * Parses a verifiable-log `verify` command line; 'help' when help was asked for. `--checkpoints`
 * and `--consistency-proofs` take every following argument up to the next flag
 * (`--checkpoints a.txt b.txt`, or the flag repeated). Throws UsageError.
 */
export function parseVerifyLogArgs(args: readonly string[]): VerifyLogPlan | 'help' {
  for (const arg of args) {
    if (arg === '--') break
    if (/^(-p|--project)(?:=|$)/.test(arg))
      throw new UsageError(
        'there is no --project in the verifiable log modes: the project is the origin of each checkpoint',
      )
  }
  const { values, tokens } = parseCommandLine({
    args: [...args],
    options: VERIFY_LOG_FLAGS,
    strict: true,
    allowPositionals: true,
    tokens: true,
  })
  if (values.help === true) return 'help'
  const lists = { checkpoints: [] as string[], 'consistency-proofs': [] as string[] }
  let list: keyof typeof lists | undefined
  for (const token of tokens) {
    if (token.kind === 'option') {
      list =
        token.name === 'checkpoints' || token.name === 'consistency-proofs' ? token.name : undefined
      if (list !== undefined && token.value !== undefined) lists[list].push(token.value)
    } else if (token.kind === 'positional') {
      if (list === undefined)
        throw new UsageError(`unexpected argument ${JSON.stringify(token.value)}`)
      lists[list].push(token.value)
    }
  }
  const keysFile = required(values['log-keys'], 'log-keys')
  const json = values.json === true
  const connection: Record<string, string> = {}
  for (const name of CONNECTION_FLAG_NAMES) {
    const value = values[name]
    if (value !== undefined) connection[name] = value
  }
  if (values.proof !== undefined) {
    if (values.checkpoints !== undefined)
      throw new UsageError('give --proof FILE or --checkpoints FILE..., not both')
    for (const flag of ['consistency-proofs', 'offline', ...CONNECTION_FLAG_NAMES] as const)
      if (values[flag] !== undefined)
        throw new UsageError(`--${flag} goes with --checkpoints, not --proof (needs no server)`)
    return {
      kind: 'proof',
      proofFile: required(values.proof, 'proof'),
      checkpointFile: required(values.checkpoint, 'checkpoint'),
      keysFile,
      json,
    }
  }
  if (lists.checkpoints.length === 0)
    throw new UsageError('give --proof FILE --checkpoint FILE, or --checkpoints FILE...')
  if (values.checkpoint !== undefined)
    throw new UsageError('--checkpoint goes with --proof; list notes after --checkpoints')
  const offline = values.offline === true
  if (offline && Object.keys(connection).length > 0)
    throw new UsageError(`--offline contacts no server: drop --${Object.keys(connection)[0]}`)
  return {
    kind: 'checkpoints',
    checkpointFiles: lists.checkpoints,
    proofFiles: lists['consistency-proofs'],
    keysFile,
    offline,
    json,
    connection,
  }
}

async function loadLogKeys(path: string): Promise<LogKeyInput[]> {
  const text = await readSetting(path, 'log-keys')
  try {
    return parseLogKeysFile(text)
  } catch (error) {
    if (error instanceof LogKeysError)
      throw new SettingError(`--log-keys ${path}: ${error.message}`)
    throw error
  }
}

/** Saved consistency proofs by `first/second`. Throws SettingError for an unusable file. */
async function loadConsistencyProofs(paths: readonly string[]): Promise<Map<string, string[]>> {
  const proofs = new Map<string, string[]>()
  for (const path of paths) {
    const text = await readSetting(path, 'consistency-proofs')
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      throw new SettingError(`--consistency-proofs ${path}: not JSON`)
    }
    const body = (typeof value === 'object' && value !== null ? value : {}) as Record<
      string,
      unknown
    >
    const { first, second, proof } = body
    if (
      typeof first !== 'number' ||
      typeof second !== 'number' ||
      !Number.isSafeInteger(first) ||
      !Number.isSafeInteger(second) ||
      first < 1 ||
      second < first ||
      !Array.isArray(proof) ||
      !proof.every((h) => typeof h === 'string')
    )
      throw new SettingError(
        `--consistency-proofs ${path}: want {"first": M, "second": N, "proof": [hex, ...]} ` +
          '(the output of "opencts log consistency")',
      )
    const key = `${first}/${second}`
    const known = proofs.get(key)
    if (known !== undefined && known.join() !== proof.join())
      throw new SettingError(
        `--consistency-proofs ${path}: a different proof for sizes ${first} and ${second} was given before`,
      )
    proofs.set(key, proof)
  }
  return proofs
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z')
}

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`

function resultLine(ok: boolean, findings: number): string {
  return ok ? 'Result: valid' : `Result: INVALID (${plural(findings, 'finding')})`
}

/** The human output of `--proof`. */
export function formatTraceProofResult(
  result: TraceProofResult,
  proofFile: string,
  checkpointFile: string,
): string {
  if (!result.ok) {
    const subject =
      result.trace_id === undefined ? `proof ${proofFile}` : `trace ${result.trace_id}`
    return `${subject} INVALID: ${result.reason}\n${resultLine(false, 1)}\n`
  }
  return (
    `trace ${result.trace_id} valid: leaf ${result.leaf_index} of the tree of ` +
    `${result.tree_size} ${result.tree_size === 1 ? 'leaf' : 'leaves'} of project ${result.project_id}, ` +
    `leaf hash ${result.leaf_hash}\n` +
    `checkpoint ${checkpointFile} valid: size ${result.tree_size}, root ${result.root_hash}, ` +
    `signed ${isoTime(result.checkpoint_time)} by ${result.key_name} (key id ${result.key_id})\n` +
    `${resultLine(true, 0)}\n`
  )
}

/** The human output of `--checkpoints`: one line per note, pair and FORK, then a summary. */
export function formatCheckpointsReport(report: CheckpointsReport): string {
  const lines: string[] = []
  for (const c of report.checkpoints)
    lines.push(
      c.ok
        ? `checkpoint ${c.name} valid: ${c.origin ?? ''}, size ${c.tree_size ?? 0}, root ` +
            `${c.root_hash ?? ''}, signed ${isoTime(c.timestamp ?? 0)} by ${c.key_name ?? ''} ` +
            `(key id ${c.key_id ?? ''})`
        : `checkpoint ${c.name} INVALID: ${c.reason ?? ''}`,
    )
  for (const p of report.consistency) {
    const pair =
      `consistency ${p.first.name} (size ${p.first.tree_size}) -> ` +
      `${p.second.name} (size ${p.second.tree_size})`
    lines.push(p.ok ? `${pair} valid` : `${pair} INVALID: ${p.reason ?? ''}`)
  }
  for (const f of report.forks)
    lines.push(`FORK at size ${f.tree_size} of ${f.origin} INVALID: ${f.reason}`)
  const { checkpoints, consistency, forks, findings, ok } = report.summary
  lines.push(
    '',
    `${plural(checkpoints.valid + checkpoints.invalid, 'checkpoint')}: ${checkpoints.valid} valid, ${checkpoints.invalid} INVALID`,
    `${plural(consistency.valid + consistency.invalid, 'consistency proof')}: ${consistency.valid} valid, ${consistency.invalid} INVALID`,
    plural(forks, 'fork'),
    resultLine(ok, findings),
  )
  return `${lines.join('\n')}\n`
}

/** `opencts verify --proof ...` and `--checkpoints ...`. */
async function runVerifyLog(args: readonly string[], io: CliIo): Promise<number> {
  refuseSecretFlags(args)
  const plan = parseVerifyLogArgs(args)
  if (plan === 'help') {
    io.stdout.write(VERIFY_USAGE)
    return 0
  }
  const keys = await loadLogKeys(plan.keysFile)
  if (plan.kind === 'proof') {
    const proofText = await readSetting(plan.proofFile, 'proof')
    const note = await readSetting(plan.checkpointFile, 'checkpoint')
    let proof: unknown
    let result: TraceProofResult
    try {
      proof = JSON.parse(proofText)
      result = verifyTraceProof(proof, note, keys)
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error
      result = { ok: false, code: 'malformed-proof', reason: 'proof is malformed: not JSON' }
    }
    io.stdout.write(
      plan.json
        ? `${JSON.stringify({ proof: plan.proofFile, checkpoint: plan.checkpointFile, result }, null, 2)}\n`
        : formatTraceProofResult(result, basename(plan.proofFile), basename(plan.checkpointFile)),
    )
    return result.ok ? 0 : 1
  }
  const saved = await loadConsistencyProofs(plan.proofFiles)
  const notes: NamedNote[] = []
  for (const path of plan.checkpointFiles)
    notes.push({ name: basename(path), text: await readSetting(path, 'checkpoints') })
  const apis = new Map<string, LogApi>()
  // A usage or setting error while resolving the connection aborts the run once it is checked.
  let fatal: Error | undefined
  const report = await checkCheckpoints(notes, keys, async (projectId, first, second) => {
    const proof = saved.get(`${first}/${second}`)
    if (proof !== undefined || plan.offline) return proof
    let api = apis.get(projectId)
    if (api === undefined) {
      try {
        api = new LogApi(
          clientOptions({ ...plan.connection, project: projectId }, io.env, resolve()),
          io.now,
        )
      } catch (error) {
        fatal ??= error instanceof Error ? error : new Error(String(error))
        throw error
      }
      apis.set(projectId, api)
    }
    const answer = await api.consistencyProof(first, second)
    if (answer.first !== first || answer.second !== second)
      throw new CliFailure(
        `the server answered a proof for sizes ${answer.first} and ${answer.second}`,
      )
    return answer.proof
  })
  if (fatal !== undefined) throw fatal
  io.stdout.write(
    plan.json ? `${JSON.stringify(report, null, 2)}\n` : formatCheckpointsReport(report),
  )
  return report.summary.ok ? 0 : 1
}
