/**
 * Tests of `opencts keys` against a real temporary data directory, whose store and master key the
 * commands themselves create: encryption keys (create, list, rotate, export to a key file that
 * parseKeyFile reads), signing keys (list, rotate, the public key file), the refusal to make a new
 * master key for a store that holds sealed data, and the exit statuses of failures (1) and usage
 * errors (2). What the commands did is checked in the store itself.
 */
import assert from 'node:assert/strict'
import { createPublicKey } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { loadOrCreateMasterKey } from '../auth/master-key.js'
import { publicKeyFingerprint } from '../integrity/digest.js'
import { FakeClock, randomIds } from '../platform/clock.js'
import { openStore } from '../store/open-store.js'
import { sealEnvelope } from '../transfer/envelope.js'
import { KmsKeys, parseKeyFile } from '../transfer/kms-keys.js'
import { runCliInProcess, type CliRun } from '../../test/helpers/run-cli-in-process.js'

const root = mkdtempSync(join(tmpdir(), 'opencts-keys-cli-'))
const dataDir = join(root, 'data')
const NOW = Date.UTC(2026, 10, 21, 12, 0, 0)
const DAY = 86_400_000
const clock = new FakeClock(NOW)
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/

function keys(argv: string[], dir = dataDir): Promise<CliRun> {
  return runCliInProcess(['keys', ...argv], {
    env: { OPENCTS_DATA_DIR: dir },
    now: () => clock.now(),
  })
}

/** Runs a keys command that must succeed; returns its stdout. */
async function ok(argv: string[]): Promise<string> {
  const run = await keys(argv)
  assert.equal(run.status, 0, `${argv.join(' ')}: ${run.stderr}`)
  return run.stdout
}

/** The KmsKeys of the data directory, opened as the server would. */
async function inStore<T>(read: (kms: KmsKeys) => Promise<T>): Promise<T> {
  const store = await openStore({ url: `sqlite:${join(dataDir, 'opencts.db')}` })
  try {
    const { key } = loadOrCreateMasterKey(join(dataDir, 'master.key'))
    return await read(new KmsKeys({ keys: store.keys, sealer: key, clock, ids: randomIds }))
  } finally {
    await store.close()
  }
}

after(() => rmSync(root, { recursive: true, force: true }))

describe('opencts keys', () => {
  let keyId = ''

  it('refuses a data directory that does not exist, and does not create it', async () => {
    const run = await keys(['list'])
    assert.equal(run.status, 1)
    assert.match(run.stderr, /^error: the data directory .*data does not exist/)
    assert.equal(existsSync(dataDir), false)
  })

  it('creates a key in an empty directory, with the store and master key', async () => {
    mkdirSync(dataDir)
    const out = await ok(['create', 'billing'])
    const match = new RegExp(
      `^Created key billing \\(id (${UUID.source})\\), version 1\\.\\n`,
    ).exec(out)
    assert.ok(match, out)
    keyId = match[1] ?? ''
    assert.match(out, new RegExp(`kms_id "${keyId}"`))
    assert.ok(existsSync(join(dataDir, 'master.key')))
    assert.equal(await inStore((kms) => kms.exists(keyId)), true)
    const json = JSON.parse(await ok(['create', 'audit/archive', '--json']))
    assert.equal(json.name, 'audit/archive')
    assert.equal(json.current_version, 1)
  })

  it('lists keys by name, as a table or JSON, without material', async () => {
    const table = await ok(['list'])
    assert.match(table, /^NAME +ID +VERSION +VERSIONS +CREATED\n/)
    assert.match(table, /\naudit\/archive +\S+ +1 +1 +2026-11-21T12:00:00Z\n/)
    assert.match(table, new RegExp(`\\nbilling +${keyId} +1 +1 +`))
    const json = JSON.parse(await ok(['list', '--json']))
    assert.deepEqual(
      json.map((k: { name: string }) => k.name),
      ['audit/archive', 'billing'],
    )
    assert.equal(JSON.stringify(json).includes('material'), false)
  })

  it('rotates a key by name or id', async () => {
    clock.advance(1000)
    assert.match(
      await ok(['rotate', 'billing']),
      new RegExp(`^Rotated key billing \\(id ${keyId}\\): version 2 encrypts new files`),
    )
    assert.equal(JSON.parse(await ok(['rotate', keyId, '--json'])).current_version, 3)
    assert.equal((await inStore((kms) => kms.current(keyId))).version, 3)
  })

  it('refuses a bad name (2), a taken name and an unknown key (1)', async () => {
    const bad = await keys(['create', 'has space'])
    assert.equal(bad.status, 2)
    assert.match(bad.stderr, /a key name is 1-64 letters/)
    const taken = await keys(['create', 'billing'])
    assert.equal(taken.status, 1)
    assert.match(taken.stderr, /^error: .*already exists/)
    const unknown = await keys(['rotate', 'nobody'])
    assert.equal(unknown.status, 1)
    assert.match(unknown.stderr, /^error: no key has the id or name "nobody"/)
  })

  it('exports every version to a new 0600 key file, with a warning, never overwriting', async () => {
    const file = join(root, 'billing.keys.json')
    const run = await keys(['export', 'billing', '--out', file])
    assert.equal(run.status, 0, run.stderr)
    assert.equal(run.stdout, `Exported key billing (id ${keyId}), 3 versions, to ${file}.\n`)
    assert.match(run.stderr, /^Warning: .* holds the key material in clear/)
    assert.equal(statSync(file).mode & 0o777, 0o600)
    const text = readFileSync(file, 'utf8')
    const parsed = JSON.parse(text)
    assert.deepEqual(Object.keys(parsed), ['kms_keys'])
    assert.deepEqual(Object.keys(parsed.kms_keys[0]), ['id', 'name', 'versions'])
    const versions = parseKeyFile(text)
    const stored = await inStore(async (kms) =>
      Promise.all([1, 2, 3].map((v) => kms.version(keyId, v))),
    )
    assert.deepEqual(versions, stored)

    const again = await keys(['export', keyId, '--out', file])
    assert.equal(again.status, 1)
    assert.match(again.stderr, /exists: it is not overwritten/)
    assert.equal(readFileSync(file, 'utf8'), text)
  })

  it("decrypts a trace file with the data directory's key or an exported key file", async () => {
    const plain = Buffer.from('[{"trace_id":"t-1"}]')
    const master = await inStore((kms) => kms.version(keyId, 2))
    const sealedFile = join(root, 'trace.json.gz')
    writeFileSync(sealedFile, sealEnvelope(plain, master))
    const out = join(root, 'trace.plain')
    const run = await keys(['decrypt', sealedFile, '--out', out])
    assert.equal(run.status, 0, run.stderr)
    assert.match(run.stdout, new RegExp(`key ${keyId} version 2`))
    assert.deepEqual(readFileSync(out), plain)
    assert.equal(statSync(out).mode & 0o777, 0o600)

    const offline = join(root, 'trace.offline')
    const withFile = await keys([
      'decrypt',
      sealedFile,
      '--out',
      offline,
      '--keys',
      join(root, 'billing.keys.json'),
    ])
    assert.equal(withFile.status, 0, withFile.stderr)
    assert.deepEqual(readFileSync(offline), plain)

    const again = await keys(['decrypt', sealedFile, '--out', out])
    assert.equal(again.status, 1, 'never overwrites')
    const altered = readFileSync(sealedFile)
    altered[altered.length - 1] = (altered[altered.length - 1] ?? 0) ^ 1
    writeFileSync(sealedFile, altered)
    const refused = await keys(['decrypt', sealedFile, '--out', join(root, 'trace.bad')])
    assert.equal(refused.status, 1)
    assert.match(refused.stderr, /altered/)
    assert.equal((await keys(['decrypt', sealedFile])).status, 2, '--out is required')
  })

  it('rotates and lists signing keys with adjacent windows', async () => {
    assert.equal(
      await ok(['signing-list']),
      `${'FINGERPRINT'.padEnd(64)}  VALID FROM            VALID TO\n`,
    )
    const first = JSON.parse(await ok(['signing-rotate', '--json']))
    assert.equal(first.valid_from, clock.now())
    clock.advance(DAY)
    const out = await ok(['signing-rotate'])
    const second = /^Rotated the digest signing key: ([0-9a-f]{64}) signs digests/.exec(out)?.[1]
    assert.ok(second, out)
    const lines = (await ok(['signing-list'])).trimEnd().split('\n')
    assert.equal(lines.length, 3)
    assert.match(
      lines[1] ?? '',
      new RegExp(`^${first.fingerprint} +2026-11-21T12:00:01Z +2026-11-22T12:00:01Z$`),
    )
    assert.match(lines[2] ?? '', new RegExp(`^${second} +2026-11-22T12:00:01Z +current$`))
    const json = JSON.parse(await ok(['signing-list', '--json']))
    assert.deepEqual(
      json.map((k: { fingerprint: string }) => k.fingerprint),
      [first.fingerprint, second],
    )
  })

  it('writes the public signing keys as the digest-keys API answers them', async () => {
    const file = join(root, 'public.json')
    assert.equal(await ok(['public', '--out', file]), `Wrote 2 public keys to ${file}.\n`)
    const written = JSON.parse(readFileSync(file, 'utf8'))
    assert.deepEqual(Object.keys(written), ['digest_keys'])
    assert.deepEqual(written.digest_keys, JSON.parse(await ok(['signing-list', '--json'])))
    for (const key of written.digest_keys) {
      assert.deepEqual(Object.keys(key), [
        'fingerprint',
        'algorithm',
        'public_key',
        'valid_from',
        'valid_to',
      ])
      assert.equal(publicKeyFingerprint(createPublicKey(key.public_key)), key.fingerprint)
    }
  })

  it('refuses to make a new master key for a store holding sealed data', async () => {
    const keyFile = join(dataDir, 'master.key')
    renameSync(keyFile, join(root, 'master.key.saved'))
    try {
      const run = await keys(['list'])
      assert.equal(run.status, 1)
      assert.match(run.stderr, /master key file .* is missing, but the store holds data sealed/)
      assert.equal(existsSync(keyFile), false)
    } finally {
      renameSync(join(root, 'master.key.saved'), keyFile)
    }
    // A store holding only an account is refused too.
    const other = join(root, 'other')
    mkdirSync(other)
    const store = await openStore({ url: `sqlite:${join(other, 'opencts.db')}` })
    await store.identity.insertAccount({ id: 'a'.repeat(32), name: 'acme', createdAt: NOW })
    await store.close()
    const run = await keys(['list'], other)
    assert.equal(run.status, 1)
    assert.equal(existsSync(join(other, 'master.key')), false)
  })

  it('answers usage errors with status 2 and the usage', async () => {
    for (const argv of [
      [],
      ['frobnicate'],
      ['export', 'billing'],
      ['list', 'extra'],
      ['create', 'x', '--out', 'f'],
      ['public', '--json', '--out', 'f'],
      ['list', '--bogus'],
    ]) {
      const run = await keys(argv)
      assert.equal(run.status, 2, argv.join(' '))
      assert.match(run.stderr, /Usage: opencts keys <command>/, argv.join(' '))
    }
    const help = await keys(['--help'])
    assert.equal(help.status, 0)
    assert.match(help.stdout, /^Usage: opencts keys <command>/)
  })
})
