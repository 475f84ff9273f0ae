/**
 * Tests of `opencts admin` against a real temporary data directory, whose store and master key the
 * commands themselves create: accounts, projects, users, keys, grants, listings (table and JSON),
 * `--password-stdin`, a ready credentials profile, and the exit statuses of failures (1) and usage
 * errors (2). What the commands did is checked in the store itself.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { parseCredentialsFile } from '../auth/credentials-file.js'
import { verifyPassword } from '../auth/password-hash.js'
import { BUILT_IN_POLICIES } from '../auth/policies.js'
import type { Store } from '../store/index.js'
import { openStore } from '../store/open-store.js'
import { runCliInProcess, type CliRun } from '../../test/helpers/run-cli-in-process.js'

const root = mkdtempSync(join(tmpdir(), 'opencts-admin-'))
const dataDir = join(root, 'data')
const PROJECT_ID = 'abcdefabcdefabcdefabcdefabcdef01'

function admin(argv: string[], stdin = '', env: Record<string, string> = {}): Promise<CliRun> {
  return runCliInProcess(['admin', ...argv], { stdin, env: { OPENCTS_DATA_DIR: dataDir, ...env } })
}

/** Runs an admin command that must succeed; returns its stdout. */
async function ok(argv: string[], stdin = ''): Promise<string> {
  const run = await admin(argv, stdin)
  assert.equal(run.status, 0, `${argv.join(' ')}: ${run.stderr}`)
  return run.stdout
}

/** Reads the store of the data directory (as the server would). */
async function inStore<T>(read: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore({ url: `sqlite:${join(dataDir, 'opencts.db')}` })
  try {
    return await read(store)
  } finally {
    await store.close()
  }
}

after(() => rmSync(root, { recursive: true, force: true }))

describe('opencts admin', () => {
  let accessKey = ''
  let secretKey = ''

  it('refuses a data directory that does not exist, and does not create it', async () => {
    const run = await admin(['account', 'list'])
    assert.equal(run.status, 1)
    assert.match(run.stderr, /^error: the data directory .*data does not exist: give the server's/)
    assert.equal(existsSync(dataDir), false)
  })

  it('creates an account in an empty directory, with the store and master key', async () => {
    mkdirSync(dataDir)
    assert.match(
      await ok(['account', 'create', 'acme']),
      /^Created account acme \(id [0-9a-f]{32}\)\.\n$/,
    )
    assert.ok(existsSync(join(dataDir, 'master.key')))
    assert.ok(existsSync(join(dataDir, 'opencts.db')))
    const json = JSON.parse(await ok(['account', 'create', 'globex', '--json']))
    assert.equal(json.name, 'globex')
    const list = await ok(['account', 'list'])
    assert.match(
      list,
      /^ACCOUNT +ID +CREATED\nacme +[0-9a-f]{32} +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\nglobex /,
    )
  })

  it('creates and lists projects, with a given id', async () => {
    assert.equal(
      await ok(['project', 'create', '--account', 'acme', 'prod', '--id', PROJECT_ID]),
      `Created project prod (id ${PROJECT_ID}) in account acme.\n`,
    )
    await ok(['project', 'create', '--account', 'globex', 'dev'])
    const table = await ok(['project', 'list'])
    assert.match(table, new RegExp(`\\nacme +prod +${PROJECT_ID} `))
    assert.match(table, /\nglobex +dev +[0-9a-f]{32} /)
    const onlyAcme = JSON.parse(await ok(['project', 'list', '--account', 'acme', '--json']))
    assert.deepEqual(
      onlyAcme.map((p: { name: string }) => p.name),
      ['prod'],
    )
  })

  it('creates a user with a generated password shown once, or one read from stdin', async () => {
    const made = await ok(['user', 'create', '--account', 'acme', 'alice'])
    const password = /Password \(shown this once\): ([A-Za-z0-9]{24})\n/.exec(made)?.[1] ?? ''
    assert.notEqual(password, '')
    assert.match(made, /It holds no policy yet: opencts admin grant --account acme --user alice/)
    const bob = await ok(
      ['user', 'create', '--account', 'acme', 'bob', '--password-stdin', '--json'],
      'correct horse battery\nsecond line\n',
    )
    assert.equal(JSON.parse(bob).password, undefined)
    assert.doesNotMatch(bob, /correct horse/)
    await inStore(async (store) => {
      const account = await store.identity.findAccount('acme')
      const alice = await store.identity.findUser(account?.id ?? '', 'alice')
      const stored = await store.identity.findUser(account?.id ?? '', 'bob')
      assert.equal(await verifyPassword(password, alice?.passwordHash ?? ''), true)
      assert.equal(await verifyPassword('correct horse battery', stored?.passwordHash ?? ''), true)
    })
  })

  it('creates an access key, printing its secret once, and grants policies', async () => {
    const made = await ok([
      'key',
      'create',
      '--account',
      'acme',
      '--user',
      'alice',
      '--description',
      'ci',
    ])
    accessKey = /access key {2}([A-Z0-9]{20})\n/.exec(made)?.[1] ?? ''
    secretKey = /secret key {2}([A-Za-z0-9]{40})\n/.exec(made)?.[1] ?? ''
    assert.notEqual(secretKey, '')
    assert.equal(
      await ok([
        'grant',
        '--account',
        'acme',
        '--user',
        'alice',
        '--policy',
        'CTS ReadOnlyAccess',
        '--project',
        'prod',
      ]),
      'Granted CTS ReadOnlyAccess to user alice in project prod.\n',
    )
    assert.equal(
      await ok(['grant', '--account', 'acme', '--user', 'alice', '--policy', 'CTS TraceReporter']),
      'Granted CTS TraceReporter to user alice in every project of account acme.\n',
    )
  })

  it('lists users with their policies and access keys, never a secret', async () => {
    const table = await ok(['user', 'list', '--account', 'acme'])
    const lines = table.trimEnd().split('\n')
    assert.match(lines[0] ?? '', /^USER +ID +ENABLED +PASSWORD +POLICIES +ACCESS KEYS$/)
    assert.match(
      lines[1] ?? '',
      new RegExp(
        `^alice +[0-9a-f]{32} +yes +set +CTS ReadOnlyAccess in prod +${accessKey} active$`,
      ),
    )
    assert.match(lines[2] ?? '', /^ {20,}CTS TraceReporter \(all projects\)$/)
    assert.match(lines[3] ?? '', /^bob +[0-9a-f]{32} +yes +set$/)
    const json = await ok(['user', 'list', '--account', 'acme', '--json'])
    const views = JSON.parse(json)
    assert.equal(views[0].accessKeys[0].accessKeyId, accessKey)
    assert.equal(views[0].accessKeys[0].description, 'ci')
    for (const text of [table, json]) {
      assert.ok(!text.includes(secretKey))
      assert.doesNotMatch(text, /sealed|scrypt|passwordHash/)
    }
  })

  it('disables an access key: it is inactive in the store', async () => {
    assert.match(await ok(['key', 'disable', accessKey]), /is inactive/)
    const key = await inStore((store) => store.identity.getAccessKey(accessKey))
    assert.equal(key?.status, 'inactive')
    const list = await ok(['key', 'list', '--account', 'acme', '--user', 'alice'])
    assert.match(list, new RegExp(`\\n${accessKey} +inactive +\\S+ +ci\\n$`))
    await ok(['key', 'enable', accessKey])
    const again = await inStore((store) => store.identity.getAccessKey(accessKey))
    assert.equal(again?.status, 'active')
  })

  it('prints a ready credentials profile with a new access key', async () => {
    const run = await admin([
      ...['credentials', '--account', 'acme', '--user', 'bob', '--project', 'prod'],
      ...['--profile', 'bob', '--endpoint', 'https://cts.example:8443/'],
    ])
    assert.equal(run.status, 0, run.stderr)
    const profile = parseCredentialsFile(run.stdout).get('bob')
    assert.deepEqual(
      { ...profile, access_key: '', secret_key: '' },
      {
        endpoint: 'https://cts.example:8443',
        account: 'acme',
        project_id: PROJECT_ID,
        project_name: 'prod',
        user: 'bob',
        access_key: '',
        secret_key: '',
      },
    )
    assert.match(
      run.stderr,
      /^Created access key [A-Z0-9]{20}; its secret key is printed only here\.\n/,
    )
    assert.match(run.stderr, /Warning: user bob holds no policy in project prod/)
    const key = await inStore((store) => store.identity.getAccessKey(profile?.access_key ?? ''))
    assert.equal(key?.status, 'active')
  })

  it('sets passwords, revokes tokens, disables, enables and deletes users', async () => {
    assert.equal(
      await ok(
        ['user', 'password', '--account', 'acme', 'bob', '--password-stdin'],
        'new password 1\r\n',
      ),
      'Set the password of user bob; its tokens are revoked.\n',
    )
    assert.equal(
      await ok(['tokens', 'revoke', '--account', 'acme', '--user', 'bob']),
      'Revoked 0 tokens of user bob.\n',
    )
    await ok(['user', 'disable', '--account', 'acme', 'bob'])
    assert.match(await ok(['user', 'list', '--account', 'acme']), /\nbob +[0-9a-f]{32} +no /)
    await ok(['user', 'enable', '--account', 'acme', 'bob'])
    await ok(['user', 'delete', '--account', 'acme', 'bob'])
    assert.doesNotMatch(await ok(['user', 'list', '--account', 'acme']), /\nbob /)
  })

  it('lists the built-in policies without a data directory', async () => {
    const run = await admin(['policies'], '', { OPENCTS_DATA_DIR: join(root, 'none') })
    assert.equal(run.status, 0, run.stderr)
    assert.match(run.stdout, /^POLICY +TYPE +ACTIONS +DESCRIPTION\n/)
    assert.match(
      run.stdout,
      /\nCTS Administrator +system role +Allow cts:\*:\* +All CTS operations/,
    )
    const json = JSON.parse((await admin(['policies', '--json'])).stdout)
    assert.deepEqual(json, JSON.parse(JSON.stringify(BUILT_IN_POLICIES)))
  })

  it('exits 1 with one line when the command fails', async () => {
    const cases: [string[], RegExp][] = [
      [['user', 'list', '--account', 'nope'], /^error: no account named "nope"\n$/],
      [['account', 'create', 'acme'], /^error: account acme already exists\n$/],
      [
        ['grant', '--account', 'acme', '--user', 'alice', '--policy', 'CTS God'],
        /^error: no policy named "CTS God"/,
      ],
      [['key', 'delete', 'NOSUCHKEY00000000000'], /^error: no access key NOSUCHKEY00000000000\n$/],
      [
        ['project', 'create', '--account', 'acme', 'other', '--id', PROJECT_ID],
        /^error: project id .* already exists\n$/,
      ],
    ]
    for (const [argv, message] of cases) {
      const run = await admin(argv)
      assert.equal(run.status, 1, argv.join(' '))
      assert.match(run.stderr, message, argv.join(' '))
    }
  })

  it('exits 2 on a usage error or an invalid value', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['user', 'create', 'carol'],
        /^opencts admin: "opencts admin user create" needs --account\n\nUsage: opencts admin/,
      ],
      [['user', 'create', '--account', 'acme'], /takes NAME, got 0 arguments/],
      [
        ['account', 'list', '--user', 'x'],
        /--user is not an option of "opencts admin account list"/,
      ],
      [['frob'], /unknown admin command "frob"/],
      [[], /give a command/],
      [
        ['user', 'create', '--account', 'acme', 'carol', '--password', 'x'],
        /Unknown option '--password'/,
      ],
      [['account', 'create', ' bad name'], /^opencts admin: account name " bad name" is invalid/],
      [
        ['project', 'create', '--account', 'acme', 'p', '--id', 'XYZ'],
        /project id "XYZ" is invalid/,
      ],
    ]
    for (const [argv, message] of cases) {
      const run = await admin(argv)
      assert.equal(run.status, 2, argv.join(' '))
      assert.match(run.stderr, message, argv.join(' '))
    }
    const short = await admin(
      ['user', 'create', '--account', 'acme', 'dan', '--password-stdin'],
      'short\n',
    )
    assert.equal(short.status, 2)
    assert.match(short.stderr, /^opencts admin: a password needs at least 8 characters\n$/)
    const empty = await admin(['user', 'create', '--account', 'acme', 'dan', '--password-stdin'])
    assert.equal(empty.status, 2)
    assert.match(empty.stderr, /the first line of stdin is empty/)
  })

  it('refuses to make a new master key when the store holds accounts', async () => {
    const run = await admin(['account', 'list'], '', {
      OPENCTS_MASTER_KEY_FILE: join(root, 'other.key'),
    })
    assert.equal(run.status, 1)
    assert.match(
      run.stderr,
      /the master key file .*other\.key is missing, but the store holds data sealed with it/,
    )
    assert.equal(existsSync(join(root, 'other.key')), false)
  })
})
