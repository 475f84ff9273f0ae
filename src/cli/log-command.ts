/**
 * @module cli/log-command
 * `opencts log checkpoint|proof|consistency|keys`: fetches from a server what a third party keeps
 * to check the verifiable log later, offline, with `opencts verify --proof`/`--checkpoints`
 * (docs/verify.md), over the log API (`GET /v3/{project_id}/log/...`, action `cts:log:get`) with
 * the client credentials of `ingest`/`query`:
 *   checkpoint [--tree-size N] [--json]   the signed note text (or the API answer as JSON)
 *   proof --trace-id ID [--tree-size N]   the inclusion proof of a trace, with the trace (JSON)
 *   consistency --first M [--second N]    a consistency proof between two tree sizes (JSON)
 *   keys                                  the public checkpoint keys (JSON)
 * Everything goes to stdout unchanged (redirect it to a file). {@link LogApi} is the client, also
 * used by `opencts verify --checkpoints` to fetch consistency proofs.
 */
import { resolve } from 'node:path'
import { CliFailure, UsageError, parseCommandLine } from './cli-errors.js'
import type { CliIo } from './cli-io.js'
import {
  authorizerFor,
  CLIENT_FLAGS,
  clientOptions,
  refuseSecretFlags,
  type ClientOptions,
} from './client-options.js'
import { CtsApiError, type RequestAuthorizer } from './http-client.js'
import { LOG_USAGE } from './usage.js'

const FLAGS = {
  ...CLIENT_FLAGS,
  'tree-size': { type: 'string' },
  'trace-id': { type: 'string' },
  first: { type: 'string' },
  second: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

/** How long a request may take, headers and body. */
const TIMEOUT_MS = 120_000

/** The subcommands and the flags each takes besides the connection flags. */
const SUBCOMMANDS: Readonly<Record<string, readonly string[]>> = {
  checkpoint: ['tree-size', 'json'],
  proof: ['trace-id', 'tree-size'],
  consistency: ['first', 'second'],
  keys: [],
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function networkReason(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer in time'
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause
  if (typeof cause?.code === 'string') return cause.code
  if (typeof cause?.message === 'string') return cause.message
  return error instanceof Error ? error.message : String(error)
}

function hintFor(status: number, credential: string): string | undefined {
  if (status === 401) return `check the credentials (${credential})`
  if (status === 403)
    return (
      `the credentials (${credential}) are valid, but their user holds no policy allowing ` +
      'cts:log:get in the project (an administrator can grant one with "opencts admin grant")'
    )
  return undefined
}

/** A client of the log API of one project. Errors: CtsApiError (4xx/5xx), CliFailure. */
export class LogApi {
  readonly #base: string
  readonly #projectId: string
  readonly #authorizer: RequestAuthorizer

  constructor(options: ClientOptions, now: () => number) {
    this.#base = options.endpoint.href.replace(/\/+$/, '')
    this.#projectId = options.projectId
    this.#authorizer = authorizerFor(options, now)
  }

  /** GET /log/checkpoint: `{checkpoint: {origin, tree_size, root_hash, timestamp, note}}`. */
  async checkpoint(treeSize?: number): Promise<{ checkpoint: Record<string, unknown> }> {
    const answer = await this.#get('checkpoint', { tree_size: treeSize })
    if (!isRecord(answer.checkpoint) || typeof answer.checkpoint.note !== 'string')
      throw new CliFailure('the server answered without a checkpoint note')
    return { checkpoint: answer.checkpoint }
  }

  /** GET /log/inclusion-proof: the proof of a trace, with the trace and its checkpoint. */
  async inclusionProof(traceId: string, treeSize?: number): Promise<Record<string, unknown>> {
    const answer = await this.#get('inclusion-proof', { trace_id: traceId, tree_size: treeSize })
    if (!Array.isArray(answer.audit_path) || !isRecord(answer.trace))
      throw new CliFailure('the server answered without an audit_path and a trace')
    return answer
  }

  /** GET /log/consistency-proof: `{first, second, proof: [hex]}`. */
  async consistencyProof(
    first: number,
    second?: number,
  ): Promise<{ first: number; second: number; proof: string[] }> {
    const answer = await this.#get('consistency-proof', { first, second })
    const { proof } = answer
    if (
      typeof answer.first !== 'number' ||
      typeof answer.second !== 'number' ||
      !Array.isArray(proof) ||
      !proof.every((h) => typeof h === 'string')
    )
      throw new CliFailure('the server answered without first, second and a proof array')
    return { first: answer.first, second: answer.second, proof }
  }

  /** GET /log/keys: `{keys: [{key_name, key_id, algorithm, public_key, ...}]}`. */
  async keys(): Promise<{ keys: unknown[] }> {
    const answer = await this.#get('keys', {})
    if (!Array.isArray(answer.keys)) throw new CliFailure('the server answered without keys')
    return { keys: answer.keys as unknown[] }
  }

  async #get(
    what: string,
    params: Readonly<Record<string, string | number | undefined>>,
  ): Promise<Record<string, unknown>> {
    const query = new URLSearchParams()
    for (const [name, value] of Object.entries(params))
      if (value !== undefined) query.set(name, String(value))
    const search = query.toString()
    const path = `/v3/${encodeURIComponent(this.#projectId)}/log/${what}${search === '' ? '' : `?${search}`}`
    const url = new URL(this.#base + path)
    const auth = await this.#authorizer.authorize({ method: 'GET', url, headers: {} })
    let response: Response
    try {
      response = await fetch(url, { headers: auth, signal: AbortSignal.timeout(TIMEOUT_MS) })
    } catch (error) {
      throw new CliFailure(`cannot reach ${this.#base}: ${networkReason(error)}`, { cause: error })
    }
    const text = await response.text()
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    if (!response.ok) {
      const body = isRecord(json) ? json : {}
      throw new CtsApiError(
        response.status,
        typeof body.error_code === 'string' ? body.error_code : `HTTP ${response.status}`,
        typeof body.error_msg === 'string' ? body.error_msg : text.slice(0, 200),
        hintFor(response.status, this.#authorizer.description),
      )
    }
    if (!isRecord(json))
      throw new CliFailure(`the server answered ${response.status} with a body that is not JSON`)
    return json
  }
}

/** A positive tree size given as a flag, or undefined. Throws UsageError. */
export function sizeFlag(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined
  const n = Number(text)
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`--${flag} must be a tree size of at least 1, got ${JSON.stringify(text)}`)
  return n
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`

/** Runs `opencts log`; resolves with the exit status (0; failures throw). */
export async function runLog(args: readonly string[], io: CliIo): Promise<number> {
  refuseSecretFlags(args)
  const { values, positionals } = parseCommandLine({
    args: [...args],
    options: FLAGS,
    strict: true,
    allowPositionals: true,
  })
  if (values.help === true) {
    io.stdout.write(LOG_USAGE)
    return 0
  }
  const [command, ...rest] = positionals
  const allowed = command === undefined ? undefined : SUBCOMMANDS[command]
  if (command === undefined || allowed === undefined || !Object.hasOwn(SUBCOMMANDS, command))
    throw new UsageError('give "checkpoint", "proof", "consistency" or "keys"')
  if (rest.length > 0)
    throw new UsageError(`"log ${command}" takes no argument, got ${JSON.stringify(rest[0])}`)
  for (const flag of ['tree-size', 'trace-id', 'first', 'second', 'json'] as const)
    if (values[flag] !== undefined && !allowed.includes(flag))
      throw new UsageError(`--${flag} does not go with "log ${command}"`)
  const treeSize = sizeFlag(values['tree-size'], 'tree-size')
  const first = sizeFlag(values.first, 'first')
  const second = sizeFlag(values.second, 'second')
  if (command === 'proof' && (values['trace-id'] === undefined || values['trace-id'] === ''))
    throw new UsageError('"log proof" needs --trace-id ID')
  if (command === 'consistency' && first === undefined)
    throw new UsageError('"log consistency" needs --first M')
  if (first !== undefined && second !== undefined && first > second)
    throw new UsageError(`--first (${first}) must not be larger than --second (${second})`)
  const api = new LogApi(clientOptions(values, io.env, resolve()), io.now)
  switch (command) {
    case 'checkpoint': {
      const answer = await api.checkpoint(treeSize)
      io.stdout.write(values.json === true ? json(answer) : String(answer.checkpoint.note))
      return 0
    }
    case 'proof':
      io.stdout.write(json(await api.inclusionProof(values['trace-id'] ?? '', treeSize)))
      return 0
    case 'consistency':
      io.stdout.write(json(await api.consistencyProof(first ?? 1, second)))
      return 0
    default:
      io.stdout.write(json(await api.keys()))
      return 0
  }
}
