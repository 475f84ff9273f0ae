/**
 * Tests of how the client commands choose their credential, endpoint and project: precedence of
 * flags, environment and credentials-file profile, where the file is looked for, the message when
 * there is no credential, the project id check, and that no message or description holds a secret.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { parseAuthorization, verifySignature } from '../auth/sdk-hmac.js'
import { CliFailure, SettingError, UsageError } from './cli-errors.js'
import {
  findCredentialsFile,
  loadProfile,
  resolveCredential,
  type ClientCredential,
  type CredentialFlags,
  type LoadedProfile,
} from './client-credentials.js'
import { authorizerFor, clientOptions, refuseSecretFlags } from './client-options.js'

const P1 = '0123456789abcdef0123456789abcdef'
const P2 = 'fedcba9876543210fedcba9876543210'
const SECRETS = [
  'SECRET-env-0123456789',
  'SECRET-file-0123456789',
  'octs1_token',
  'pw-file',
  'pw-env',
]
const [ENV_SK, FILE_SK, TOKEN, FILE_PW, ENV_PW] = SECRETS as [
  string,
  string,
  string,
  string,
  string,
]

const root = mkdtempSync(join(tmpdir(), 'opencts-creds-'))
after(() => rmSync(root, { recursive: true, force: true }))
let dirs = 0

/** A fresh folder, with `files` (relative path → text) written in it. */
function folder(files: Record<string, string> = {}): string {
  const dir = join(root, String(dirs++))
  mkdirSync(dir)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  return dir
}

const FILE = [
  '# comment',
  '[default]',
  'endpoint = http://file:1',
  'account = acme',
  `project_id = ${P2}`,
  'user = alice',
  `password = ${FILE_PW}`,
  'access_key = FILEKEY0000000000000',
  `secret_key = ${FILE_SK}`,
  '[reader]',
  'account = acme',
  'user = bob',
  `password = ${FILE_PW}`,
  '',
].join('\n')

function profileOf(text = FILE, name = 'default'): LoadedProfile {
  const dir = folder({ credentials: text })
  const loaded = loadProfile({ credentials: 'credentials', profile: name }, {}, dir)
  assert.ok(loaded !== undefined)
  return loaded
}

function credential(
  flags: CredentialFlags,
  env: Record<string, string>,
  profile?: LoadedProfile,
): ClientCredential {
  const result = resolveCredential(flags, env, profile)
  for (const secret of SECRETS) assert.ok(!result.description.includes(secret), result.description)
  return result
}

/** Runs `fn`, expects it to throw `type`, and checks that the message holds no secret. */
function refused(fn: () => unknown, type: new (...args: never[]) => Error, pattern: RegExp): void {
  assert.throws(fn, (error: Error) => {
    assert.ok(error instanceof type, `${error.name}: ${error.message}`)
    assert.match(error.message, pattern)
    for (const secret of SECRETS) assert.ok(!error.message.includes(secret), error.message)
    return true
  })
}

describe('findCredentialsFile', () => {
  it('takes --credentials, then OPENCTS_CREDENTIALS_FILE, relative to the current folder', () => {
    const env = { OPENCTS_CREDENTIALS_FILE: 'env.ini', HOME: '/home/x' }
    assert.deepEqual(findCredentialsFile('a/flag.ini', env, '/work'), {
      path: '/work/a/flag.ini',
      given: true,
    })
    assert.deepEqual(findCredentialsFile(undefined, env, '/work'), {
      path: '/work/env.ini',
      given: true,
    })
  })

  it('else finds ~/.opencts/credentials, then ./.opencts/credentials, else none', () => {
    const home = folder({ '.opencts/credentials': FILE })
    const cwd = folder({ '.opencts/credentials': FILE })
    const inHome = join(home, '.opencts', 'credentials')
    const inCwd = join(cwd, '.opencts', 'credentials')
    assert.deepEqual(findCredentialsFile(undefined, { HOME: home }, cwd), {
      path: inHome,
      given: false,
    })
    assert.deepEqual(findCredentialsFile(undefined, { HOME: folder() }, cwd), {
      path: inCwd,
      given: false,
    })
    assert.deepEqual(findCredentialsFile(undefined, {}, cwd), { path: inCwd, given: false })
    assert.equal(findCredentialsFile(undefined, { HOME: folder() }, folder()), undefined)
  })
})

describe('loadProfile', () => {
  it('reads the default profile, or the one of --profile or OPENCTS_PROFILE', () => {
    const dir = folder({ 'c.ini': FILE })
    const flags = { credentials: 'c.ini' }
    assert.equal(loadProfile(flags, {}, dir)?.values.user, 'alice')
    assert.equal(loadProfile(flags, { OPENCTS_PROFILE: 'reader' }, dir)?.values.user, 'bob')
    const named = loadProfile({ ...flags, profile: 'reader' }, { OPENCTS_PROFILE: 'x' }, dir)
    assert.equal(named?.name, 'reader')
  })

  it('refuses a missing profile or file that was asked for, and a malformed file', () => {
    const dir = folder({ 'c.ini': FILE, 'bad.ini': `[default]\n${FILE_SK}\n` })
    refused(
      () => loadProfile({ credentials: 'c.ini', profile: 'nope' }, {}, dir),
      SettingError,
      /no profile "nope" in .*c\.ini \(it has "default", "reader"\)/,
    )
    refused(
      () => loadProfile({ credentials: 'missing.ini' }, {}, dir),
      CliFailure,
      /cannot read the credentials file .*missing\.ini: ENOENT/,
    )
    refused(
      () => loadProfile({ credentials: 'bad.ini' }, {}, dir),
      CliFailure,
      /bad\.ini: line 2: expected/,
    )
    refused(() => loadProfile({ profile: 'x' }, {}, folder()), SettingError, /no credentials file/)
  })

  it('ignores a found file without the default profile', () => {
    const cwd = folder({ '.opencts/credentials': '[other]\nuser = x\n' })
    assert.equal(loadProfile({}, {}, cwd), undefined)
  })
})

describe('resolveCredential', () => {
  const profile = profileOf()

  it('takes flags first: --access-key (secret: env, else the profile of that key), --token', () => {
    const env = { OPENCTS_TOKEN: TOKEN, OPENCTS_SECRET_KEY: ENV_SK }
    assert.deepEqual(credential({ 'access-key': 'AK1' }, env, profile), {
      kind: 'aksk',
      accessKeyId: 'AK1',
      secretKey: ENV_SK,
      description: 'access key AK1 from --access-key, secret key from OPENCTS_SECRET_KEY',
    })
    const fromFile = credential({ 'access-key': 'FILEKEY0000000000000' }, {}, profile)
    assert.equal(fromFile.kind === 'aksk' && fromFile.secretKey, FILE_SK)
    assert.match(fromFile.description, /secret key from profile "default" of .*credentials$/)
    assert.deepEqual(credential({ token: 'T1' }, { OPENCTS_ACCESS_KEY: 'AK2' }, profile), {
      kind: 'token',
      token: 'T1',
      description: '--token',
    })
    refused(
      () => credential({ 'access-key': 'AK1', token: 'T1' }, {}),
      UsageError,
      /--access-key or --token, not both/,
    )
  })

  it('refuses an access key without its secret, never taking the secret of another key', () => {
    refused(
      () => credential({ 'access-key': 'OTHERKEY' }, {}, profile),
      UsageError,
      /no secret key for access key OTHERKEY .*OPENCTS_SECRET_KEY.*no --secret-key flag/,
    )
    refused(
      () => credential({}, { OPENCTS_ACCESS_KEY: 'AK2' }),
      UsageError,
      /no secret key for access key AK2 \(OPENCTS_ACCESS_KEY\)/,
    )
    refused(() => credential({}, { OPENCTS_SECRET_KEY: ENV_SK }), UsageError, /no access key/)
  })

  it('then the environment: access key over token over password', () => {
    const all = {
      OPENCTS_ACCESS_KEY: 'AK2',
      OPENCTS_SECRET_KEY: ENV_SK,
      OPENCTS_TOKEN: TOKEN,
      OPENCTS_ACCOUNT: 'acme',
      OPENCTS_USER: 'carol',
      OPENCTS_PASSWORD: ENV_PW,
    }
    assert.equal(credential({}, all, profile).kind, 'aksk')
    // An empty variable counts as unset.
    const noKey = { ...all, OPENCTS_ACCESS_KEY: '' }
    assert.deepEqual(credential({}, noKey, profile), {
      kind: 'token',
      token: TOKEN,
      description: 'OPENCTS_TOKEN',
    })
    const password = { ...noKey, OPENCTS_TOKEN: '' }
    assert.deepEqual(credential({}, password, profile), {
      kind: 'password',
      account: 'acme',
      user: 'carol',
      password: ENV_PW,
      description:
        'user carol of account acme from OPENCTS_ACCOUNT, OPENCTS_USER, OPENCTS_PASSWORD',
    })
  })

  it('completes an environment password with the account of the profile, not its password', () => {
    const withPassword = credential({}, { OPENCTS_PASSWORD: ENV_PW }, profile)
    assert.deepEqual(
      withPassword.kind === 'password' && [withPassword.account, withPassword.user],
      ['acme', 'alice'],
    )
    const sameUser = credential({}, { OPENCTS_USER: 'alice' }, profile)
    assert.equal(sameUser.kind === 'password' && sameUser.password, FILE_PW)
    refused(
      () => credential({}, { OPENCTS_USER: 'dave' }, profile),
      UsageError,
      /signing in with a password \(OPENCTS_USER\) also needs OPENCTS_PASSWORD/,
    )
    refused(
      () => credential({}, { OPENCTS_USER: 'dave', OPENCTS_PASSWORD: ENV_PW }),
      UsageError,
      /also needs OPENCTS_ACCOUNT/,
    )
  })

  it('then the profile: its access key (secret from env first), else its password', () => {
    const aksk = credential({}, {}, profile)
    assert.deepEqual(aksk.kind === 'aksk' && [aksk.accessKeyId, aksk.secretKey], [
      'FILEKEY0000000000000',
      FILE_SK,
    ])
    assert.match(aksk.description, /^access key FILEKEY0000000000000 from profile "default" of /)
    const envSecret = credential({}, { OPENCTS_SECRET_KEY: ENV_SK }, profile)
    assert.equal(envSecret.kind === 'aksk' && envSecret.secretKey, ENV_SK)
    const reader = credential({}, {}, profileOf(FILE, 'reader'))
    assert.deepEqual(reader.kind === 'password' && [reader.account, reader.user, reader.password], [
      'acme',
      'bob',
      FILE_PW,
    ])
  })

  it('says how to get a credential when there is none', () => {
    refused(
      () => credential({}, {}),
      UsageError,
      /^no credentials \(no credentials file found at ~\/\.opencts\/credentials or \.\/\.opencts/,
    )
    const lines = /--credentials FILE.*\n.*\.opencts\/credentials.*\n.*"opencts admin credentials"/
    refused(() => credential({}, {}), UsageError, lines)
    refused(() => credential({}, {}), UsageError, /OPENCTS_ACCESS_KEY and OPENCTS_SECRET_KEY/)
    refused(
      () => credential({}, {}, profileOf('[default]\nendpoint = http://x\n')),
      UsageError,
      /^no credentials \(profile "default" of .* holds no access_key, password or user\)/,
    )
  })

  it('refuses a malformed access key id or token without echoing the token', () => {
    refused(
      () => credential({ 'access-key': 'A K' }, { OPENCTS_SECRET_KEY: ENV_SK }),
      UsageError,
      /access key id of --access-key is malformed/,
    )
    refused(
      () => credential({}, { OPENCTS_TOKEN: `${TOKEN}\n` }),
      UsageError,
      /the token of OPENCTS_TOKEN is empty or holds spaces/,
    )
  })
})

describe('clientOptions', () => {
  const cwd = folder({ '.opencts/credentials': FILE })
  const token = { OPENCTS_TOKEN: TOKEN }

  it('takes the project from --project, OPENCTS_PROJECT_ID, then the profile', () => {
    assert.equal(
      clientOptions({ project: P1 }, { ...token, OPENCTS_PROJECT_ID: P2 }, cwd).projectId,
      P1,
    )
    assert.equal(clientOptions({}, { ...token, OPENCTS_PROJECT_ID: P1 }, cwd).projectId, P1)
    assert.equal(clientOptions({}, token, cwd).projectId, P2)
    refused(
      () => clientOptions({}, token, folder()),
      UsageError,
      /the project is required: give --project ID, set OPENCTS_PROJECT_ID or put project_id/,
    )
  })

  it('requires a project id of 32 lowercase hex characters', () => {
    for (const bad of ['p1', P1.toUpperCase(), `${P1}0`, 'local-1'])
      refused(
        () => clientOptions({ project: bad }, token, cwd),
        UsageError,
        /the project ID must be 32 lowercase hex characters/,
      )
  })

  it('takes the endpoint from --endpoint, OPENCTS_ENDPOINT, the profile, then the default', () => {
    const env = { ...token, OPENCTS_ENDPOINT: 'http://env:2' }
    assert.equal(
      clientOptions({ endpoint: 'http://flag:3' }, env, cwd).endpoint.href,
      'http://flag:3/',
    )
    assert.equal(clientOptions({}, env, cwd).endpoint.href, 'http://env:2/')
    assert.equal(clientOptions({}, token, cwd).endpoint.href, 'http://file:1/')
    assert.equal(
      clientOptions({ project: P1 }, token, folder()).endpoint.href,
      'http://127.0.0.1:8088/',
    )
  })
})

describe('refuseSecretFlags', () => {
  it('refuses --secret-key and --password without echoing their value', () => {
    refused(
      () => refuseSecretFlags(['-p', P1, `--secret-key=${ENV_SK}`]),
      UsageError,
      /there is no --secret-key flag.*OPENCTS_SECRET_KEY/,
    )
    refused(
      () => refuseSecretFlags(['--password', ENV_PW]),
      UsageError,
      /there is no --password flag.*OPENCTS_PASSWORD/,
    )
    refuseSecretFlags(['--', '--password'])
  })
})

describe('authorizerFor', () => {
  it('signs with SDK-HMAC-SHA256 every sent header, X-Project-Id included', async () => {
    const now = Date.UTC(2026, 4, 10, 12)
    const options = clientOptions(
      { project: P1, 'access-key': 'AK1' },
      { OPENCTS_SECRET_KEY: ENV_SK },
      folder(),
    )
    const sent = { 'content-type': 'application/json' }
    const url = new URL(`http://127.0.0.1:8088/v3/${P1}/traces?limit=5`)
    const added = await authorizerFor(options, () => now).authorize({
      method: 'POST',
      url,
      headers: sent,
      body: '{}',
    })
    assert.equal(added['x-project-id'], P1)
    assert.equal(added['X-Sdk-Date'], '20260510T120000Z')
    const auth = parseAuthorization(added.Authorization ?? '')
    assert.ok(!('error' in auth))
    assert.deepEqual(auth.signedHeaders, ['content-type', 'host', 'x-project-id', 'x-sdk-date'])
    const headers = Object.fromEntries(
      Object.entries({ ...sent, ...added, host: url.host }).map(([k, v]) => [k.toLowerCase(), v]),
    )
    const received = {
      method: 'POST',
      rawPath: url.pathname,
      rawQuery: 'limit=5',
      headers,
      bodySha256: createHash('sha256').update('{}').digest('hex'),
    }
    assert.equal(verifySignature(received, auth, ENV_SK), true)
    assert.equal(verifySignature(received, auth, FILE_SK), false)
  })

  it('sends a token as X-Auth-Token', async () => {
    const options = clientOptions({ project: P1, token: TOKEN }, {}, folder())
    const added = await authorizerFor(options, Date.now).authorize({
      method: 'GET',
      url: new URL('http://h/'),
      headers: {},
    })
    assert.deepEqual(added, { 'x-auth-token': TOKEN })
  })
})
