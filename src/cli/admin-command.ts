/**
 * @module cli/admin-command
 * `opencts admin`: manages accounts, projects, users, access keys and policy grants by working
 * directly on the store (`--store URL` / OPENCTS_STORE, default the data directory's SQLite file
 * `opencts.db`) and the master key file through `IdentityAdmin`. Safe while servers run: SQLite
 * in WAL mode, PostgreSQL transactions, and servers cache no identity. The store is opened by
 * `data-dir.ts`: an SQLite store's folder must exist (a typo must not make an empty one), and a
 * missing master key is created only while the store holds nothing sealed. `admin migrate` applies
 * the store's schema migrations and reports its version (an SQLite row store is converted to
 * blocks, under a progress bar on a terminal's stderr).
 *
 * Secrets are printed once, when made (generated passwords, secret keys); passwords are read from
 * stdin, never from a flag. Exit statuses: 2 for a usage error or an invalid value
 * (OCTS_ERR_IDENTITY_INVALID), 1 when the command fails (OCTS_ERR_IDENTITY_NOT_FOUND / _EXISTS, no
 * data directory, unreadable store).
 */
import { formatCredentialsProfile } from '../auth/credentials-file.js'
import { IdentityAdmin, type UserView } from '../auth/identity-admin.js'
import { BUILT_IN_POLICIES } from '../auth/policies.js'
import { newPassword } from '../auth/secrets.js'
import { redactUrl } from '../config/config.js'
import { OpenCtsError } from '../errors/index.js'
import type { Store } from '../store/index.js'
import { openStore, parseStoreUrl, SCHEMA_VERSIONS } from '../store/open-store.js'
import { systemClock } from '../platform/clock.js'
import { CliFailure, SettingError, UsageError, parseCommandLine } from './cli-errors.js'
import { dataDirConfig, withDataDir } from './data-dir.js'
import type { CliIo } from './cli-io.js'
import { formatTable } from './format-table.js'
import { DEFAULT_ENDPOINT, parseEndpoint } from './http-client.js'
import { ProgressLine } from './progress-line.js'
import { ADMIN_USAGE } from './usage.js'

const ADMIN_FLAGS = {
  'data-dir': { type: 'string' },
  store: { type: 'string' },
  json: { type: 'boolean' },
  account: { type: 'string' },
  user: { type: 'string' },
  project: { type: 'string' },
  policy: { type: 'string' },
  id: { type: 'string' },
  description: { type: 'string' },
  profile: { type: 'string' },
  endpoint: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

type Flag = keyof typeof ADMIN_FLAGS
type Values = {
  readonly [K in Flag]?: (typeof ADMIN_FLAGS)[K]['type'] extends 'string' ? string : boolean
}

interface Context {
  readonly admin: IdentityAdmin
  readonly values: Values
  /** The positional arguments after the command words. */
  readonly args: readonly string[]
  readonly io: CliIo
}

/** What a subcommand takes on the command line. */
interface CommandLine {
  /** Names of the positional arguments, for messages. */
  readonly args: readonly string[]
  /** Flags taken besides --data-dir and --help; `required` ones must be given. */
  readonly flags: readonly Flag[]
  readonly required: readonly Flag[]
}

interface Subcommand extends CommandLine {
  /** Runs with the data directory's store open. */
  run(context: Context): Promise<void>
}

function command(
  args: readonly string[],
  required: readonly Flag[],
  optional: readonly Flag[],
  run: (context: Context) => Promise<void>,
): Subcommand {
  return { args, flags: [...required, ...optional], required, run }
}

/** Reads the value of a string flag checked as required by `command`. */
function flag(values: Values, name: 'account' | 'user' | 'policy' | 'project'): string {
  return values[name] ?? ''
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function print(io: CliIo, values: Values, json: unknown, text: () => string): void {
  io.stdout.write(values.json === true ? JSON.stringify(json, null, 2) + '\n' : text())
}

/** Words of `text` in lines of at most `width` characters (table cells are cut past 40). */
function wrap(text: string, width = 40): string[] {
  const lines: string[] = []
  for (const word of text.split(' ')) {
    const last = lines.at(-1)
    if (last !== undefined && last.length + 1 + word.length <= width)
      lines[lines.length - 1] += ` ${word}`
    else lines.push(word)
  }
  return lines
}

/** Rows of a record whose list columns continue on following rows under blank leading cells. */
function stacked(first: readonly string[], lists: readonly (readonly string[])[]): string[][] {
  const height = Math.max(1, ...lists.map((list) => list.length))
  return Array.from({ length: height }, (_, i) => [
    ...first.map((cell) => (i === 0 ? cell : '')),
    ...lists.map((list) => list[i] ?? ''),
  ])
}

/** The first line of stdin (at most 4 KiB), without its line ending. */
async function readFirstLine(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stdin as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    chunks.push(bytes)
    size += bytes.length
    if (bytes.includes(0x0a) || size > 4096) break
  }
  const line = Buffer.concat(chunks).toString('utf8').split('\n')[0] ?? ''
  return line.replace(/\r$/, '')
}

/** The password of `--password-stdin`, or a generated one (to print once). */
async function passwordOf(context: Context): Promise<{ password: string; generated: boolean }> {
  if (context.values['password-stdin'] !== true) return { password: newPassword(), generated: true }
  const password = await readFirstLine(context.io.stdin)
  if (password === '') throw new UsageError('--password-stdin: the first line of stdin is empty')
  return { password, generated: false }
}

function policiesCell(view: UserView, projectNames: ReadonlyMap<string, string>): string[] {
  return view.grants.map((g) =>
    g.projectId === null
      ? `${g.policyName} (all projects)`
      : `${g.policyName} in ${projectNames.get(g.projectId) ?? g.projectId}`,
  )
}

async function userView(context: Context): Promise<UserView> {
  const { admin, values } = context
  const user = await admin.user(flag(values, 'account'), flag(values, 'user'))
  const view = (await admin.listUsers(flag(values, 'account'))).find((v) => v.user.id === user.id)
  if (view === undefined) throw new CliFailure(`user ${user.name} was deleted meanwhile`)
  return view
}

function grantCommand(verb: 'grant' | 'revoke'): Subcommand {
  return command([], ['account', 'user', 'policy'], ['project'], async ({ admin, values, io }) => {
    const [account, user, policy] = [
      flag(values, 'account'),
      flag(values, 'user'),
      flag(values, 'policy'),
    ]
    const input = {
      account,
      user,
      policy,
      ...(values.project === undefined ? {} : { project: values.project }),
    }
    if (verb === 'grant') await admin.grant(input)
    else await admin.revoke(input)
    const where =
      values.project === undefined
        ? `every project of account ${account}`
        : `project ${values.project}`
    io.stdout.write(
      verb === 'grant'
        ? `Granted ${policy} to user ${user} in ${where}.\n`
        : `Revoked ${policy} of user ${user} in ${where}.\n`,
    )
  })
}

/** A name as a shell word (names hold letters, digits, spaces and `_ . -` only). */
function word(name: string): string {
  return name.includes(' ') ? `"${name}"` : name
}

const POLICY_ADVICE = (account: string, user: string): string =>
  `It holds no policy yet: opencts admin grant --account ${word(account)} --user ${word(user)} ` +
  '--policy "CTS ReadOnlyAccess"\n'

const COMMANDS: Readonly<Record<string, Subcommand>> = {
  'account create': command(['NAME'], [], ['id', 'json'], async ({ admin, args, values, io }) => {
    const account = await admin.createAccount({
      name: args[0] ?? '',
      ...(values.id === undefined ? {} : { id: values.id }),
    })
    print(io, values, account, () => `Created account ${account.name} (id ${account.id}).\n`)
  }),
  'account list': command([], [], ['json'], async ({ admin, values, io }) => {
    const accounts = await admin.listAccounts()
    print(io, values, accounts, () =>
      formatTable(
        ['ACCOUNT', 'ID', 'CREATED'],
        accounts.map((a) => [a.name, a.id, isoTime(a.createdAt)]),
      ),
    )
  }),
  'project create': command(['NAME'], ['account'], ['id', 'json'], async (context) => {
    const { admin, args, values, io } = context
    const project = await admin.createProject({
      account: flag(values, 'account'),
      name: args[0] ?? '',
      ...(values.id === undefined ? {} : { id: values.id }),
    })
    print(
      io,
      values,
      project,
      () => `Created project ${project.name} (id ${project.id}) in account ${values.account}.\n`,
    )
  }),
  'project list': command([], [], ['account', 'json'], async ({ admin, values, io }) => {
    const projects = await admin.listProjects(values.account)
    const accounts = new Map((await admin.listAccounts()).map((a) => [a.id, a.name]))
    print(io, values, projects, () =>
      formatTable(
        ['ACCOUNT', 'PROJECT', 'ID', 'CREATED'],
        projects.map((p) => [
          accounts.get(p.accountId) ?? p.accountId,
          p.name,
          p.id,
          isoTime(p.createdAt),
        ]),
      ),
    )
  }),
  'user create': command(['NAME'], ['account'], ['password-stdin', 'json'], async (context) => {
    const { admin, args, values, io } = context
    const { password, generated } = await passwordOf(context)
    const account = flag(values, 'account')
    const user = await admin.createUser({ account, name: args[0] ?? '', password })
    const shown = generated ? { password } : {}
    print(io, values, { id: user.id, account, name: user.name, ...shown }, () =>
      [
        `Created user ${user.name} (id ${user.id}) in account ${account}.\n`,
        generated ? `Password (shown this once): ${password}\n` : '',
        POLICY_ADVICE(account, user.name),
      ].join(''),
    )
  }),
  'user list': command([], ['account'], ['json'], async ({ admin, values, io }) => {
    const account = flag(values, 'account')
    const views = await admin.listUsers(account)
    const projects = new Map((await admin.listProjects(account)).map((p) => [p.id, p.name]))
    print(io, values, views, () =>
      formatTable(
        ['USER', 'ID', 'ENABLED', 'PASSWORD', 'POLICIES', 'ACCESS KEYS'],
        views.flatMap((view) =>
          stacked(
            [
              view.user.name,
              view.user.id,
              view.user.enabled ? 'yes' : 'no',
              view.user.hasPassword ? 'set' : 'none',
            ],
            [
              policiesCell(view, projects),
              view.accessKeys.map((k) => `${k.accessKeyId} ${k.status}`),
            ],
          ),
        ),
      ),
    )
  }),
  'user password': command(['NAME'], ['account'], ['password-stdin'], async (context) => {
    const { admin, args, values, io } = context
    const { password, generated } = await passwordOf(context)
    const user = args[0] ?? ''
    await admin.setPassword({ account: flag(values, 'account'), user, password })
    io.stdout.write(`Set the password of user ${user}; its tokens are revoked.\n`)
    if (generated) io.stdout.write(`Password (shown this once): ${password}\n`)
  }),
  'user enable': command(['NAME'], ['account'], [], async ({ admin, args, values, io }) => {
    await admin.setUserEnabled({
      account: flag(values, 'account'),
      user: args[0] ?? '',
      enabled: true,
    })
    io.stdout.write(`Enabled user ${args[0]}.\n`)
  }),
  'user disable': command(['NAME'], ['account'], [], async ({ admin, args, values, io }) => {
    await admin.setUserEnabled({
      account: flag(values, 'account'),
      user: args[0] ?? '',
      enabled: false,
    })
    io.stdout.write(`Disabled user ${args[0]}; its tokens are revoked.\n`)
  }),
  'user delete': command(['NAME'], ['account'], [], async ({ admin, args, values, io }) => {
    await admin.deleteUser({ account: flag(values, 'account'), user: args[0] ?? '' })
    io.stdout.write(`Deleted user ${args[0]} with its policies, access keys and tokens.\n`)
  }),
  'key create': command([], ['account', 'user'], ['description', 'json'], async (context) => {
    const { admin, values, io } = context
    const [account, user] = [flag(values, 'account'), flag(values, 'user')]
    const key = await admin.createAccessKey({
      account,
      user,
      ...(values.description === undefined ? {} : { description: values.description }),
    })
    print(io, values, { account, user, ...key }, () =>
      [
        `Created access key ${key.accessKeyId} for user ${user} of account ${account}.`,
        'The secret key is shown this once:',
        `  access key  ${key.accessKeyId}`,
        `  secret key  ${key.secretKey}`,
        '',
      ].join('\n'),
    )
  }),
  'key list': command([], ['account', 'user'], ['json'], async (context) => {
    const { accessKeys } = await userView(context)
    print(context.io, context.values, accessKeys, () =>
      formatTable(
        ['ACCESS KEY', 'STATUS', 'CREATED', 'DESCRIPTION'],
        accessKeys.map((k) => [k.accessKeyId, k.status, isoTime(k.createdAt), k.description]),
      ),
    )
  }),
  'key enable': command(['AK'], [], [], async ({ admin, args, io }) => {
    await admin.setAccessKeyStatus(args[0] ?? '', 'active')
    io.stdout.write(`Access key ${args[0]} is active.\n`)
  }),
  'key disable': command(['AK'], [], [], async ({ admin, args, io }) => {
    await admin.setAccessKeyStatus(args[0] ?? '', 'inactive')
    io.stdout.write(`Access key ${args[0]} is inactive: requests signed with it are refused.\n`)
  }),
  'key delete': command(['AK'], [], [], async ({ admin, args, io }) => {
    await admin.deleteAccessKey(args[0] ?? '')
    io.stdout.write(`Deleted access key ${args[0]}.\n`)
  }),
  credentials: command(
    [],
    ['account', 'user', 'project'],
    ['profile', 'endpoint', 'description'],
    async (context) => {
      const { admin, values, io } = context
      const profile = values.profile ?? 'default'
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(profile))
        throw new UsageError(
          `--profile must be 1-64 letters, digits, _ . or -, got ${JSON.stringify(profile)}`,
        )
      const endpoint = parseEndpoint(values.endpoint ?? DEFAULT_ENDPOINT).href.replace(/\/+$/, '')
      const [accountName, userName] = [flag(values, 'account'), flag(values, 'user')]
      const account = await admin.account(accountName)
      const project = await admin.project(account, flag(values, 'project'))
      const view = await userView(context)
      const key = await admin.createAccessKey({
        account: accountName,
        user: userName,
        description: values.description ?? `credentials for project ${project.name}`,
      })
      io.stdout.write(
        formatCredentialsProfile(
          profile,
          {
            endpoint,
            account: account.name,
            project_id: project.id,
            project_name: project.name,
            user: userName,
            access_key: key.accessKeyId,
            secret_key: key.secretKey,
          },
          [
            `OpenCTS credentials of user ${userName} (account ${account.name}), ` +
              `made ${isoTime(systemClock.now())}.`,
            'Keep this file private (chmod 600); use it with: opencts query --credentials FILE',
          ],
        ),
      )
      io.stderr.write(
        `Created access key ${key.accessKeyId}; its secret key is printed only here.\n`,
      )
      if (!view.grants.some((g) => g.projectId === null || g.projectId === project.id))
        io.stderr.write(
          `Warning: user ${userName} holds no policy in project ${project.name} yet: ` +
            `opencts admin grant --account ${word(account.name)} --user ${word(userName)} ` +
            `--policy NAME --project ${word(project.name)}\n`,
        )
    },
  ),
  grant: grantCommand('grant'),
  revoke: grantCommand('revoke'),
  'tokens revoke': command([], ['account', 'user'], [], async ({ admin, values, io }) => {
    const user = flag(values, 'user')
    const count = await admin.revokeTokens({ account: flag(values, 'account'), user })
    io.stdout.write(`Revoked ${count} ${count === 1 ? 'token' : 'tokens'} of user ${user}.\n`)
  }),
}

/** `admin policies` needs no data directory: it is not in COMMANDS. */
const POLICIES: CommandLine = { args: [], flags: ['json'], required: [] }

/** `admin migrate` needs no master key: it is not in COMMANDS. */
const MIGRATE: CommandLine = { args: [], flags: ['json'], required: [] }

/**
 * Opens the store of `--store` / OPENCTS_STORE / the data directory, which applies the schema
 * migrations it lacks (SQLite: creates and upgrades its tables), and prints the version it is at.
 */
async function migrateStore(io: CliIo, values: Values): Promise<void> {
  const config = dataDirConfig({ dataDir: values['data-dir'], store: values.store }, io.env)
  const engine = parseStoreUrl(config.store).engine
  let store: Store
  // SQLite: a row store is upgraded to blocks here, under a progress bar on a terminal's stderr.
  const progress = new ProgressLine(io.stderr, io.stderrIsTty, io.now)
  let converted: { done: number; total: number } | undefined
  try {
    store = await openStore({
      url: config.store,
      poolSize: 1,
      onMigrationProgress: (done, total) => {
        converted = { done, total }
        progress.update(`Converting traces to blocks: ${done}/${total} (${percent(done, total)})`)
      },
    })
  } catch (error) {
    throw new CliFailure(error instanceof OpenCtsError ? error.message : String(error))
  } finally {
    progress.done()
  }
  await store.close()
  if (converted !== undefined && values.json !== true)
    io.stdout.write(`Converted ${converted.total} traces to blocks.\n`)
  const where = redactUrl(config.store)
  const version = SCHEMA_VERSIONS[engine]
  print(
    io,
    values,
    {
      store: where,
      engine,
      schemaVersion: version,
      ...(converted === undefined ? {} : { convertedTraces: converted.total }),
    },
    () =>
      `The ${engine === 'sqlite' ? 'SQLite' : 'PostgreSQL'} store ${where} is at schema version ${version} (current).\n`,
  )
}

function percent(done: number, total: number): string {
  return total === 0 ? '100%' : `${Math.floor((done / total) * 100)}%`
}

function printPolicies(io: CliIo, values: Values): void {
  print(io, values, BUILT_IN_POLICIES, () =>
    formatTable(
      ['POLICY', 'TYPE', 'ACTIONS', 'DESCRIPTION'],
      BUILT_IN_POLICIES.flatMap((p) =>
        stacked(
          [p.name, p.type],
          [
            p.document.Statement.flatMap((s) => s.Action.map((a) => `${s.Effect} ${a}`)),
            wrap(p.description),
          ],
        ),
      ),
    ),
  )
}

/** The subcommand named by the first one or two positionals, and the positionals after it. */
function findCommand(positionals: readonly string[]): {
  name: string
  spec: Subcommand | 'policies' | 'migrate'
  args: string[]
} {
  const [first = '', second = '', ...rest] = positionals
  const two = `${first} ${second}`
  if (Object.hasOwn(COMMANDS, two))
    return { name: two, spec: COMMANDS[two] as Subcommand, args: rest }
  if (first === 'policies' || first === 'migrate')
    return { name: first, spec: first, args: positionals.slice(1) }
  if (Object.hasOwn(COMMANDS, first) && !first.includes(' '))
    return { name: first, spec: COMMANDS[first] as Subcommand, args: positionals.slice(1) }
  if (first === '') throw new UsageError('give a command, e.g. opencts admin account list')
  throw new UsageError(`unknown admin command ${JSON.stringify(positionals.slice(0, 2).join(' '))}`)
}

/** Checks the flags and positionals against the subcommand. Throws UsageError. */
function checkCommandLine(
  name: string,
  spec: CommandLine,
  values: Values,
  args: readonly string[],
): void {
  for (const key of Object.keys(values) as Flag[]) {
    if (key !== 'data-dir' && key !== 'store' && key !== 'help' && !spec.flags.includes(key))
      throw new UsageError(`--${key} is not an option of "opencts admin ${name}"`)
  }
  const missing = spec.required.filter((key) => values[key] === undefined)
  if (missing.length > 0)
    throw new UsageError(
      `"opencts admin ${name}" needs ${missing.map((key) => `--${key}`).join(', ')}`,
    )
  if (args.length !== spec.args.length)
    throw new UsageError(
      spec.args.length === 0
        ? `"opencts admin ${name}" takes no argument, got ${JSON.stringify(args.join(' '))}`
        : `"opencts admin ${name}" takes ${spec.args.join(' ')}, got ${args.length} arguments`,
    )
}

/** Opens the data directory (cli/data-dir.ts), runs `run` with its identity admin, closes it. */
function withAdmin<T>(
  values: Values,
  env: CliIo['env'],
  run: (admin: IdentityAdmin) => Promise<T>,
): Promise<T> {
  return withDataDir(
    { dataDir: values['data-dir'], store: values.store },
    env,
    ({ store, masterKey }) =>
      run(new IdentityAdmin({ store: store.identity, clock: systemClock, masterKey })),
  )
}

/** OCTS_ERR_IDENTITY_INVALID → SettingError (exit 2); other OpenCtsErrors → CliFailure (exit 1). */
function commandError(error: unknown): unknown {
  if (!(error instanceof OpenCtsError)) return error
  if (error.code === 'OCTS_ERR_IDENTITY_INVALID') return new SettingError(error.message)
  return new CliFailure(error.message)
}

export async function runAdmin(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine({
    args: [...argv],
    options: ADMIN_FLAGS,
    strict: true,
    allowPositionals: true,
  })
  if (values.help === true) {
    io.stdout.write(ADMIN_USAGE)
    return 0
  }
  const { name, spec, args } = findCommand(positionals)
  if (spec === 'policies') {
    checkCommandLine(name, POLICIES, values, args)
    printPolicies(io, values)
    return 0
  }
  if (spec === 'migrate') {
    checkCommandLine(name, MIGRATE, values, args)
    await migrateStore(io, values)
    return 0
  }
  checkCommandLine(name, spec, values, args)
  try {
    await withAdmin(values, io.env, (admin) => spec.run({ admin, values, args, io }))
  } catch (error) {
    throw commandError(error)
  }
  return 0
}
