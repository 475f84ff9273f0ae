/**
 * @module cli/ingest-command
 * `opencts ingest FILE|-`: reads traces (JSON lines, array or `{"traces": [...]}`), sends them in
 * batches of at most 1,000 traces and under 12 MB, and prints the ids the server stored. A rejected
 * batch stops the command with the CTS error and where in the input the bad trace is; batches
 * before it stay stored (each batch is one transaction on the server).
 */
import { createReadStream, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { MAX_BATCH_BYTES, MAX_BATCH_TRACES } from '../model/index.js'
import { CliFailure, UsageError, parseCommandLine } from './cli-errors.js'
import type { CliIo } from './cli-io.js'
import {
  CLIENT_FLAGS,
  clientFor,
  clientOptions,
  refuseSecretFlags,
  type ClientOptions,
} from './client-options.js'
import { CtsApiError } from './http-client.js'
import { ingestProgressText, ProgressLine } from './progress-line.js'
import { readTraces, type InputTrace } from './read-traces.js'
import { shiftTimes } from './shift-times.js'
import { batchTraces, type TraceBatch } from './trace-batches.js'
import { INGEST_USAGE } from './usage.js'

const INGEST_FLAGS = {
  ...CLIENT_FLAGS,
  'batch-size': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  'shift-to-now': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

export interface IngestPlan {
  readonly client: ClientOptions
  /** A file path, or `-` for stdin. */
  readonly source: string
  readonly batchSize: number
  readonly quiet: boolean
  /** Shift trace times so the newest is one second ago (reads the whole input first). */
  readonly shiftToNow: boolean
}

/**
 * Parses the command line of `ingest` and resolves endpoint, project and credential
 * (client-options.ts; `cwd` anchors relative credentials paths); 'help' when help was asked for.
 * Throws UsageError, SettingError or CliFailure (unreadable credentials file).
 */
export function parseIngestArgs(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd: string = resolve(),
): IngestPlan | 'help' {
  refuseSecretFlags(args)
  const { values, positionals } = parseCommandLine({
    args: [...args],
    options: INGEST_FLAGS,
    strict: true,
    allowPositionals: true,
  })
  if (values.help === true) return 'help'
  if (positionals.length !== 1)
    throw new UsageError(
      `give one input: a FILE or - for stdin (got ${positionals.length} arguments)`,
    )
  const sizeText = values['batch-size'] ?? String(MAX_BATCH_TRACES)
  if (!/^\d{1,4}$/.test(sizeText) || Number(sizeText) < 1 || Number(sizeText) > MAX_BATCH_TRACES)
    throw new UsageError(
      `--batch-size must be an integer from 1 to ${MAX_BATCH_TRACES}, got ${JSON.stringify(sizeText)}`,
    )
  return {
    client: clientOptions(values, env, cwd),
    source: positionals[0] ?? '-',
    batchSize: Number(sizeText),
    quiet: values.quiet === true,
    shiftToNow: values['shift-to-now'] === true,
  }
}

/** Where in the input the trace named by a batch error (`traces[i]...`) is, for the message. */
export function locateBatchError(batch: TraceBatch, errorMsg: string): string {
  const match = /traces\[(\d+)\]/.exec(errorMsg)
  const index = match === null ? undefined : Number(match[1])
  if (index === undefined || index >= batch.count) {
    const last = batch.firstIndex + batch.count
    return `in the batch of input traces ${batch.firstIndex + 1}-${last}`
  }
  const line = batch.lines[index]
  return `at input trace ${batch.firstIndex + index + 1}${line === null || line === undefined ? '' : ` (line ${line})`}`
}

function plural(count: number, one: string, many: string): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`
}

export async function runIngest(args: readonly string[], io: CliIo): Promise<number> {
  const plan = parseIngestArgs(args, io.env)
  if (plan === 'help') {
    io.stdout.write(INGEST_USAGE)
    return 0
  }
  const name = plan.source === '-' ? 'stdin' : plan.source
  let totalBytes: number | undefined
  let input: AsyncIterable<Buffer | string>
  if (plan.source === '-') input = io.stdin as AsyncIterable<Buffer | string>
  else {
    try {
      totalBytes = statSync(plan.source).size
    } catch (error) {
      throw new CliFailure(`cannot read ${name}: ${(error as Error).message}`)
    }
    input = createReadStream(plan.source)
  }
  let bytesRead = 0
  async function* counted(): AsyncGenerator<Buffer | string> {
    try {
      for await (const chunk of input) {
        bytesRead += chunk.length
        yield chunk
      }
    } catch (error) {
      throw new CliFailure(`cannot read ${name}: ${(error as Error).message}`)
    }
  }
  const client = clientFor(plan.client, io.now)
  const progress = new ProgressLine(io.stderr, io.stderrIsTty, io.now)
  const started = io.now()
  const ids: string[] = []
  let batches = 0
  const limits = { maxTraces: plan.batchSize, maxBytes: MAX_BATCH_BYTES }
  let traces: AsyncIterable<InputTrace> | InputTrace[] = readTraces(counted())
  if (plan.shiftToNow) {
    const all: InputTrace[] = []
    for await (const trace of traces) all.push(trace)
    traces = shiftTimes(all, io.now())
  }
  for await (const batch of batchTraces(traces, limits)) {
    try {
      ids.push(...(await client.postTraces(plan.client.projectId, batch.body)))
    } catch (error) {
      progress.done()
      if (!(error instanceof CtsApiError)) throw error
      // A refused credential is about no trace in particular.
      const refused = [401, 403, 429].includes(error.status)
      const where = refused ? '' : `${locateBatchError(batch, error.errorMsg)}; `
      io.stderr.write(`error: ${error.message}\n  ${where}`)
      io.stderr.write(
        `stored before it: ${plural(ids.length, 'trace', 'traces')} in ${plural(batches, 'batch', 'batches')}\n`,
      )
      return 1
    }
    batches++
    // From the second batch on: a one-batch input needs no progress line.
    if (batches > 1)
      progress.update(ingestProgressText(ids.length, bytesRead, totalBytes, io.now() - started))
  }
  progress.done()
  if (ids.length === 0) throw new CliFailure(`${name} holds no traces`)
  io.stdout.write(
    `Stored ${plural(ids.length, 'trace', 'traces')} in ${plural(batches, 'batch', 'batches')}.\n`,
  )
  if (!plan.quiet) io.stdout.write(ids.map((id) => `${id}\n`).join(''))
  return 0
}
