/**
 * @module cli/verify-store
 * `opencts verify --store DIR|FILE|URL`: audits a server's store (an SQLite file, or the PostgreSQL
 * database of a deployment) against its own verifiable log (log/store-audit): every stored trace re-hashed and compared with its stored leaf, leaves
 * without a row, rows out of order or inserted behind the log, and every project's tree recomputed
 * from the documents and compared with every signed checkpoint (and with checkpoint notes saved
 * elsewhere, `--checkpoints`). The store is opened read-only (SQLite: in one snapshot), so it is
 * safe while the servers run and never changes the store.
 *
 * Exit statuses: 0 no finding, 1 any finding (or the store cannot be read), 2 usage error (a bad
 * flag, no store at the path, an unreadable or invalid checkpoints file). Usage and setting errors
 * are thrown (UsageError, SettingError) for `run-cli` to print, as every command does.
 */
import { existsSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isOpenCtsError } from '../errors/index.js'
import { parseCheckpoint } from '../integrity/checkpoint.js'
import {
  auditStore,
  STORE_FINDING_KINDS,
  type ExternalCheckpoint,
  type StoreAuditProgress,
  type StoreAuditReport,
  type StoreFinding,
} from '../log/store-audit.js'
import { TRACE_LOG_HASHING } from '../log/trace-log-hashing.js'
import { LogKeysError, parseLogKeysFile, type LogKeyInput } from '../log/verify-proofs.js'
import { redactUrl } from '../config/config.js'
import type { Store } from '../store/index.js'
import { openStore, parseStoreUrl } from '../store/open-store.js'
import { CliFailure, SettingError, UsageError, parseCommandLine } from './cli-errors.js'
import type { CliIo } from './cli-io.js'
import { ProgressLine } from './progress-line.js'

export const VERIFY_STORE_USAGE = `Usage: opencts verify --store DIR|FILE|URL [--project-id ID] [--log-keys FILE]
                      [--checkpoints FILE...] [--retention-days N] [--json]

Audits a server's store against its verifiable log, read-only (safe while the servers run):
every stored trace is re-hashed and compared with its stored leaf, leaves without a row, rows out
of order, duplicated or inserted behind the log are found, and every project's tree is recomputed
from the stored documents and compared with every signed checkpoint.

  --store DIR|FILE|URL     the data directory (holding opencts.db), the .db file itself, or a
                           store URL: sqlite:FILE or postgres://user@host:port/database
  --project-id ID          audit this project only
  --log-keys FILE          the published checkpoint keys (GET /v3/{project_id}/log/keys, "opencts
                           log keys"): verify checkpoints with these, not with the keys stored in
                           the audited store (which whoever rewrote it could have added to)
  --checkpoints FILE...    checkpoint notes saved elsewhere, compared too: signed notes, or JSON
                           answers of GET /v3/{project_id}/log/checkpoint(s); repeatable
  --retention-days N       the server's retention (default OPENCTS_RETENTION_DAYS, else 7): a leaf
                           without a row that a checkpoint signed longer ago covers was deleted by
                           retention, not a finding
  --json                   print the report as JSON instead of lines
  -h, --help               show this help

Output: a line per project and per finding (CHANGED, DELETED, REORDERED, INSERTED, CHECKPOINT,
TREE), then a summary. A progress line is drawn on stderr when it is a terminal.
Exit status: 0 when no finding, 1 on any finding (or when the store cannot be read), 2 on an
invalid option, no store at the path, or an invalid checkpoints file.
`

const FLAGS = {
  store: { type: 'string' },
  'project-id': { type: 'string' },
  checkpoints: { type: 'string', multiple: true },
  'log-keys': { type: 'string' },
  'retention-days': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

const DEFAULT_RETENTION_DAYS = 7
const DAY_MS = 86_400_000

/** What the command line asks for, files not read yet. */
export interface VerifyStorePlan {
  /** The store's URL (`sqlite:FILE` or `postgres://…`). */
  readonly url: string
  /** The store as shown (the SQLite file, or the URL without password). */
  readonly path: string
  readonly projectId: string | undefined
  readonly checkpointFiles: readonly string[]
  readonly logKeysFile: string | undefined
  readonly retentionDays: number
  readonly json: boolean
}

/** A retention in days, 1..3650; `fromFlag`: a bad value is a UsageError, else a SettingError. */
function retentionDays(text: string, what: string, fromFlag: boolean): number {
  const days = /^\d{1,4}$/.test(text) ? Number(text) : Number.NaN
  if (days >= 1 && days <= 3650) return days
  const message = `${what} must be a whole number of days in 1..3650, got ${JSON.stringify(text)}`
  throw fromFlag ? new UsageError(message) : new SettingError(message)
}

/**
 * The store URL of `--store`: a postgres:// URL as is, `sqlite:FILE`, a data directory's
 * opencts.db, or a file. Throws SettingError.
 */
function storeUrl(store: string): string {
  if (/^postgres(ql)?:\/\//.test(store)) return store
  if (store.startsWith('sqlite:')) return `sqlite:${storeFile(store.slice('sqlite:'.length))}`
  return `sqlite:${storeFile(store)}`
}

/** The SQLite file of `--store`: a data directory's opencts.db, or a file. Throws SettingError. */
function storeFile(store: string): string {
  if (!existsSync(store)) throw new SettingError(`--store ${store}: no such file or directory`)
  if (!statSync(store).isDirectory()) return store
  const path = join(store, 'opencts.db')
  if (!existsSync(path))
    throw new SettingError(`--store ${store}: the directory holds no opencts.db`)
  return path
}

/**
 * Parses the command line of `verify --store`; 'help' when help was asked for. Files given after
 * `--checkpoints` are all checkpoint files (`--checkpoints saved/*.json`). Throws UsageError or
 * SettingError.
 */
export function parseVerifyStoreArgs(
  args: readonly string[],
  env: CliIo['env'],
): VerifyStorePlan | 'help' {
  const { values, tokens } = parseCommandLine({
    args: [...args],
    options: FLAGS,
    strict: true,
    allowPositionals: true,
    tokens: true,
  })
  if (values.help === true) return 'help'
  const files = [...(values.checkpoints ?? [])]
  let afterCheckpoints = false
  for (const token of tokens) {
    if (token.kind === 'positional') {
      if (!afterCheckpoints) throw new UsageError(`unexpected argument ${token.value}`)
      files.push(token.value)
    } else afterCheckpoints = token.kind === 'option' && token.name === 'checkpoints'
  }
  if (values.store === undefined || values.store === '') throw new UsageError('--store is required')
  const projectId = values['project-id']
  if (projectId !== undefined && !/^[^\s/]{1,64}$/.test(projectId))
    throw new UsageError(`--project-id ${JSON.stringify(projectId)} is not a project id`)
  const fromEnv = env.OPENCTS_RETENTION_DAYS
  const url = storeUrl(values.store)
  return {
    url,
    path: url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : redactUrl(url),
    projectId,
    checkpointFiles: files,
    logKeysFile: values['log-keys'],
    retentionDays:
      values['retention-days'] !== undefined
        ? retentionDays(values['retention-days'], '--retention-days', true)
        : fromEnv !== undefined && fromEnv !== ''
          ? retentionDays(fromEnv, 'OPENCTS_RETENTION_DAYS', false)
          : DEFAULT_RETENTION_DAYS,
    json: values.json === true,
  }
}

/** The notes of one JSON value: a note string, `{note}`, an array of them, or `{checkpoints}`. */
function jsonNotes(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value]
  if (Array.isArray(value)) {
    const all = value.map(jsonNotes)
    return all.every((n) => n !== undefined) ? all.flat() : undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const { note, checkpoints, checkpoint } = value as Record<string, unknown>
  if (typeof note === 'string') return [note]
  if (Array.isArray(checkpoints)) return jsonNotes(checkpoints)
  if (typeof checkpoint === 'object' && checkpoint !== null) return jsonNotes(checkpoint)
  return undefined
}

/**
 * The checkpoint notes of a file: signed notes one after the other, or JSON (the API's
 * checkpoint, checkpoint list or inclusion answer, or an array of notes). Throws SettingError.
 */
export function checkpointNotes(text: string, source: string): ExternalCheckpoint[] {
  let notes: string[] | undefined
  if (/^\s*[[{"]/.test(text)) {
    try {
      notes = jsonNotes(JSON.parse(text))
    } catch (error) {
      throw new SettingError(`--checkpoints ${source}: ${(error as Error).message}`)
    }
    if (notes === undefined)
      throw new SettingError(`--checkpoints ${source}: no checkpoint note in this JSON`)
  } else {
    // A new note starts at an origin line right after a signature line.
    notes = text.split(/(?<=\n\u2014 [^\n]*\n)(?=opencts\/)/)
  }
  if (notes.length === 0) throw new SettingError(`--checkpoints ${source}: no checkpoint note`)
  return notes.map((note, i) => {
    try {
      parseCheckpoint(note)
    } catch (error) {
      throw new SettingError(
        `--checkpoints ${source}: note ${i + 1} is not a checkpoint: ${(error as Error).message}`,
      )
    }
    return { source, note }
  })
}

/** The keys of `--log-keys`, checked. Throws SettingError. */
async function readLogKeys(file: string): Promise<LogKeyInput[]> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new SettingError(`--log-keys ${file}: ${(error as Error).message}`)
  }
  try {
    return parseLogKeysFile(text)
  } catch (error) {
    if (error instanceof LogKeysError)
      throw new SettingError(`--log-keys ${file}: ${error.message}`)
    throw error
  }
}

async function readCheckpointFiles(files: readonly string[]): Promise<ExternalCheckpoint[]> {
  const out: ExternalCheckpoint[] = []
  for (const file of files) {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (error) {
      throw new SettingError(`--checkpoints ${file}: ${(error as Error).message}`)
    }
    out.push(...checkpointNotes(text, file))
  }
  return out
}

const plural = (count: number, word: string): string =>
  `${count.toLocaleString('en-US')} ${word}${count === 1 ? '' : 's'}`

const leaves = (count: number): string =>
  `${count.toLocaleString('en-US')} ${count === 1 ? 'leaf' : 'leaves'}`

function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function findingLine(f: StoreFinding): string {
  const where = [
    `project ${f.projectId === '' ? '-' : f.projectId}`,
    ...(f.traceId === undefined ? [] : [`trace ${f.traceId}`]),
    ...(f.leafIndex === undefined ? [] : [`leaf ${f.leafIndex}`]),
    ...(f.source === undefined || f.source === 'store' ? [] : [`(${f.source})`]),
  ]
  return `${f.kind.toUpperCase()} ${where.join(' ')}: ${f.message}`
}

/** The report as text lines, newline-terminated. */
export function formatStoreAudit(
  report: StoreAuditReport,
  path: string,
  engine: 'sqlite' | 'postgres' = 'sqlite',
): string {
  const lines = [
    engine === 'sqlite'
      ? `Auditing the SQLite store ${path} (read-only, one snapshot)`
      : `Auditing the PostgreSQL store ${path} (read-only)`,
  ]
  const stored = report.keys
    .map((k) => `${k.keyName} (id ${k.keyId}, created ${isoTime(k.createdAt)})`)
    .join(', ')
  lines.push(
    report.keysFrom === 'trusted'
      ? `checkpoints verified with the keys of --log-keys; keys stored in the ${engine === 'sqlite' ? 'file' : 'database'}: ${stored === '' ? 'none' : stored}`
      : `checkpoints verified with the keys stored in the ${engine === 'sqlite' ? 'file' : 'database'} (compare them with the published ones, or give --log-keys): ${stored === '' ? 'none' : stored}`,
  )
  for (const p of report.projects) {
    const noLog = p.treeSize === 0 && p.logged === 0
    const parts = noLog
      ? ['no log', `${plural(p.notInLog, 'row')} not in the log`]
      : [
          leaves(p.treeSize),
          `${plural(p.logged, 'row')} in the log`,
          ...(p.notInLog === 0 ? [] : [`${plural(p.notInLog, 'row')} not in the log`]),
          ...(p.expired === 0 ? [] : [`${leaves(p.expired)} expired (retention)`]),
          `${plural(p.checkpoints + p.externalCheckpoints, 'checkpoint')} compared`,
          ...(p.covered >= p.treeSize
            ? []
            : [`${leaves(p.treeSize - p.covered)} after the last checkpoint`]),
          ...(p.recomputedRoot === null ? [] : [`root ${p.recomputedRoot.slice(0, 16)}…`]),
        ]
    lines.push(
      `project ${p.projectId}: ${parts.join(', ')}: ${p.findings === 0 ? 'valid' : `INVALID (${plural(p.findings, 'finding')})`}`,
    )
  }
  lines.push(...report.findings.map(findingLine))
  if (report.findingsLeftOut > 0)
    lines.push(`… and ${plural(report.findingsLeftOut, 'more finding')} (counted, not listed)`)
  lines.push(...report.notes.map((n) => `note: ${n}`))
  const total = STORE_FINDING_KINDS.reduce((sum, k) => sum + report.findingCounts[k], 0)
  const counts = STORE_FINDING_KINDS.filter((k) => report.findingCounts[k] > 0)
    .map((k) => `${report.findingCounts[k]} ${k}`)
    .join(', ')
  const compared = report.projects.reduce((n, p) => n + p.checkpoints + p.externalCheckpoints, 0)
  lines.push(
    '',
    `${plural(report.rows, 'row')}, ${plural(report.projects.length, 'project')}, ${plural(compared, 'checkpoint')} compared`,
    report.ok ? 'Result: valid' : `Result: INVALID (${plural(total, 'finding')}: ${counts})`,
  )
  return `${lines.join('\n')}\n`
}

function progressText(p: StoreAuditProgress): string {
  const share =
    p.headSeq === undefined || p.headSeq === 0
      ? ''
      : ` (${Math.min(100, Math.floor((p.seq / p.headSeq) * 100))}%)`
  return `verify --store: ${p.rows.toLocaleString('en-US')} rows checked${share}`
}

async function openReadOnly(url: string): Promise<Store> {
  try {
    // The hashing recomputes the Merkle levels an engine does not store; nothing is appended.
    return await openStore({ url, readonly: true, poolSize: 2, merkle: TRACE_LOG_HASHING })
  } catch (error) {
    throw new CliFailure(isOpenCtsError(error) ? error.message : String(error))
  }
}

/** Runs `opencts verify --store`; resolves with the exit status (0 valid, 1 findings). */
export async function runVerifyStore(args: readonly string[], io: CliIo): Promise<number> {
  const plan = parseVerifyStoreArgs(args, io.env)
  if (plan === 'help') {
    io.stdout.write(VERIFY_STORE_USAGE)
    return 0
  }
  const checkpoints = await readCheckpointFiles(plan.checkpointFiles)
  const trustedKeys =
    plan.logKeysFile === undefined ? undefined : await readLogKeys(plan.logKeysFile)
  const store = await openReadOnly(plan.url)
  const engine = parseStoreUrl(plan.url).engine
  const progress = new ProgressLine(io.stderr, io.stderrIsTty, io.now)
  try {
    const report = await auditStore(store.merkle, {
      now: io.now(),
      retentionMs: plan.retentionDays * DAY_MS,
      ...(plan.projectId === undefined ? {} : { projectId: plan.projectId }),
      checkpoints,
      ...(trustedKeys === undefined ? {} : { trustedKeys }),
      headSeq: await store.traces.headSeq(),
      onProgress: (p) => progress.update(progressText(p)),
    })
    progress.done()
    io.stdout.write(
      plan.json
        ? `${JSON.stringify({ store: plan.path, ...report }, null, 2)}\n`
        : formatStoreAudit(report, plan.path, engine),
    )
    return report.ok ? 0 : 1
  } catch (error) {
    progress.done()
    if (isOpenCtsError(error)) throw new CliFailure(`${plan.path}: ${error.message}`)
    throw error
  } finally {
    await store.close()
  }
}
