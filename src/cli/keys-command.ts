/**
 * @module cli/keys-command
 * `opencts keys`: manages the encryption master keys of trace files (`KmsKeys`; a tracker's
 * `kms_id` is a key's id) and the digest signing keys (`SigningKeys`) by working directly on a data
 * directory, like `opencts admin` (see cli/data-dir for the rules on the directory and master key).
 * Safe while the server runs: SQLite in WAL mode, and the server reads the current key version and
 * signing key from the store each time it uses one.
 *
 * `keys export` writes key material in clear to a new file (mode 0600, never over an existing
 * file) and warns about it; `keys public` writes the public signing keys in the shape of
 * `GET /v3/{project_id}/digest-keys`. Both are for offline verification (`opencts verify`).
 * Exit statuses: 2 for a usage error or an invalid value (OCTS_ERR_KEY_INVALID), 1 when the
 * command fails (OCTS_ERR_KEY_NOT_FOUND / _EXISTS, a file that cannot be written, no data directory).
 */
import { writeFileSync } from 'node:fs'
import { OpenCtsError } from '../errors/index.js'
import { randomIds, type Clock } from '../platform/clock.js'
import { KmsKeys } from '../transfer/kms-keys.js'
import { SigningKeys, type DigestKeyView } from '../transfer/signing-keys.js'
import { CliFailure, SettingError, UsageError, parseCommandLine } from './cli-errors.js'
import type { CliIo } from './cli-io.js'
import { withDataDir } from './data-dir.js'
import { decryptError, decryptFile } from './decrypt-file.js'
import { formatTable } from './format-table.js'
import { KEYS_USAGE } from './usage.js'

const KEYS_FLAGS = {
  'data-dir': { type: 'string' },
  json: { type: 'boolean' },
  out: { type: 'string' },
  keys: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

interface Values {
  readonly 'data-dir'?: string
  readonly json?: boolean
  readonly out?: string
  readonly keys?: string
  readonly help?: boolean
}

interface Context {
  readonly kms: KmsKeys
  readonly signing: SigningKeys
  readonly values: Values
  /** The positional arguments after the subcommand. */
  readonly args: readonly string[]
  readonly io: CliIo
}

interface Subcommand {
  /** Names of the positional arguments, for messages. */
  readonly args: readonly string[]
  /** Whether it takes --json, and whether it needs --out. */
  readonly json: boolean
  readonly out: boolean
  run(context: Context): Promise<void>
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function print(context: Context, json: unknown, text: () => string): void {
  context.io.stdout.write(
    context.values.json === true ? JSON.stringify(json, null, 2) + '\n' : text(),
  )
}

/** Writes `text` to `path`; `exclusive`: never over an existing file, mode 0600. */
function writeOut(path: string, text: string, exclusive: boolean): void {
  try {
    writeFileSync(path, text, exclusive ? { mode: 0o600, flag: 'wx' } : { mode: 0o644 })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EEXIST')
      throw new CliFailure(`${path} exists: it is not overwritten; remove it or give another --out`)
    throw new CliFailure(`cannot write ${path}: ${error instanceof Error ? error.message : code}`)
  }
}

/** Signing keys as lines (fingerprints are 64 characters: wider than a table cell). */
function signingTable(keys: readonly DigestKeyView[]): string {
  const rows = keys.map((k) => [
    k.fingerprint,
    isoTime(k.valid_from),
    k.valid_to === null ? 'current' : isoTime(k.valid_to),
  ])
  return [['FINGERPRINT', 'VALID FROM', 'VALID TO'], ...rows]
    .map(
      ([fingerprint = '', from = '', to = '']) =>
        `${fingerprint.padEnd(64)}  ${from.padEnd(20)}  ${to}\n`,
    )
    .join('')
}

const COMMANDS: Readonly<Record<string, Subcommand>> = {
  create: {
    args: ['NAME'],
    json: true,
    out: false,
    async run(context) {
      const key = await context.kms.create(context.args[0] ?? '')
      print(context, key, () =>
        [
          `Created key ${key.name} (id ${key.id}), version 1.`,
          `Give kms_id "${key.id}" to a tracker to encrypt its trace files under it.`,
          '',
        ].join('\n'),
      )
    },
  },
  list: {
    args: [],
    json: true,
    out: false,
    async run(context) {
      const keys = await context.kms.list()
      print(context, keys, () =>
        formatTable(
          ['NAME', 'ID', 'VERSION', 'VERSIONS', 'CREATED'],
          keys.map((k) => [
            k.name,
            k.id,
            String(k.current_version),
            String(k.version_count),
            isoTime(k.created_at),
          ]),
        ),
      )
    },
  },
  rotate: {
    args: ['ID|NAME'],
    json: true,
    out: false,
    async run(context) {
      const key = await context.kms.rotate(context.args[0] ?? '')
      print(
        context,
        key,
        () =>
          `Rotated key ${key.name} (id ${key.id}): version ${key.current_version} encrypts new ` +
          'files; older versions still decrypt theirs.\n',
      )
    },
  },
  export: {
    args: ['ID|NAME'],
    json: false,
    out: true,
    async run({ kms, args, values, io }) {
      const out = values.out ?? ''
      const file = await kms.export(args[0] ?? '')
      const [key] = file.kms_keys
      writeOut(out, JSON.stringify(file, null, 2) + '\n', true)
      io.stdout.write(
        `Exported key ${key?.name} (id ${key?.id}), ${key?.versions.length} versions, to ${out}.\n`,
      )
      io.stderr.write(
        `Warning: ${out} holds the key material in clear: whoever reads it can decrypt every ` +
          'trace file encrypted under this key. Keep it offline, and delete it when done.\n',
      )
    },
  },
  'signing-list': {
    args: [],
    json: true,
    out: false,
    async run(context) {
      const keys = await context.signing.publicKeys()
      print(context, keys, () => signingTable(keys))
    },
  },
  'signing-rotate': {
    args: [],
    json: true,
    out: false,
    async run(context) {
      const key = await context.signing.rotate()
      print(
        context,
        key,
        () =>
          `Rotated the digest signing key: ${key.fingerprint} signs digests ending from ` +
          `${isoTime(key.valid_from)}; the previous key's window ends there.\n`,
      )
    },
  },
  public: {
    args: [],
    json: false,
    out: true,
    async run({ signing, values, io }) {
      const out = values.out ?? ''
      const keys = await signing.publicKeys()
      if (keys.length === 0)
        throw new CliFailure(
          'there is no signing key yet: the server makes one when it first needs one (or run ' +
            '"opencts keys signing-rotate")',
        )
      writeOut(out, JSON.stringify({ digest_keys: keys }, null, 2) + '\n', false)
      io.stdout.write(
        `Wrote ${keys.length} public ${keys.length === 1 ? 'key' : 'keys'} to ${out}.\n`,
      )
    },
  },
}

/** Checks the flags and positionals against the subcommand. Throws UsageError. */
function checkCommandLine(
  name: string,
  spec: Subcommand,
  values: Values,
  args: readonly string[],
): void {
  if (values.json === true && !spec.json)
    throw new UsageError(`--json is not an option of "opencts keys ${name}"`)
  if (values.out !== undefined && !spec.out)
    throw new UsageError(`--out is not an option of "opencts keys ${name}"`)
  if (spec.out && (values.out === undefined || values.out === ''))
    throw new UsageError(`"opencts keys ${name}" needs --out FILE`)
  if (args.length !== spec.args.length)
    throw new UsageError(
      spec.args.length === 0
        ? `"opencts keys ${name}" takes no argument, got ${JSON.stringify(args.join(' '))}`
        : `"opencts keys ${name}" takes ${spec.args.join(' ')}, got ${args.length} arguments`,
    )
}

/** OCTS_ERR_KEY_INVALID → SettingError (exit 2); other OpenCtsErrors → CliFailure (exit 1). */
function commandError(error: unknown): unknown {
  if (!(error instanceof OpenCtsError)) return error
  if (error.code === 'OCTS_ERR_KEY_INVALID') return new SettingError(error.message)
  return new CliFailure(error.message)
}

export async function runKeys(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine({
    args: [...argv],
    options: KEYS_FLAGS,
    strict: true,
    allowPositionals: true,
  })
  if (values.help === true) {
    io.stdout.write(KEYS_USAGE)
    return 0
  }
  const [name = '', ...args] = positionals
  if (name === '') throw new UsageError('give a command, e.g. opencts keys list')
  if (name === 'decrypt') {
    if (args.length !== 1 || values.out === undefined || values.out === '')
      throw new UsageError('"opencts keys decrypt" takes FILE and --out OUT')
    if (values.json === true)
      throw new UsageError('--json is not an option of "opencts keys decrypt"')
    try {
      await decryptFile(
        { file: args[0] ?? '', out: values.out, keys: values.keys, dataDir: values['data-dir'] },
        io,
      )
    } catch (error) {
      throw decryptError(error)
    }
    return 0
  }
  if (values.keys !== undefined)
    throw new UsageError(`--keys is not an option of "opencts keys ${name}"`)
  const spec = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
  if (spec === undefined) throw new UsageError(`unknown keys command ${JSON.stringify(name)}`)
  checkCommandLine(name, spec, values, args)
  try {
    await withDataDir(values['data-dir'], io.env, async ({ store, masterKey }) => {
      const clock: Clock = { now: io.now }
      const kms = new KmsKeys({ keys: store.keys, sealer: masterKey, clock, ids: randomIds })
      const signing = new SigningKeys({ keys: store.keys, sealer: masterKey, clock })
      await spec.run({ kms, signing, values, args, io })
    })
  } catch (error) {
    throw commandError(error)
  }
  return 0
}
