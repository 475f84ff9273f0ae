/**
 * Tests of `opencts verify` as a command (through `runCli`, on a local object folder written by
 * `FsObjectSink`): exit status 0 for a clean bucket and 1 for a tampered one, the JSON report and
 * the line output, encrypted files with and without `--keys`, and usage errors (2).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import type { MasterKeyVersion } from '../src/transfer/envelope.js'
import { FsObjectSink } from '../src/transfer/fs/index.js'
import { runCliInProcess, type CliRun } from './helpers/run-cli-in-process.js'
import { makeSigningKey, writeFixture, type FixtureOptions } from './helpers/digest-fixture.js'

const BUCKET = 'audit-bucket'
const REGION = 'test-1'
const PROJECT = '0123456789abcdef0123456789abcdef'
/** The starting digest starts here; digests end at 22:00, 23:00, 00:00 … 03:00. */
const START = Date.UTC(2026, 0, 9, 21, 30, 0)
/** "Now": ten minutes after the newest digest's end. */
const TO = Date.UTC(2026, 0, 10, 3, 10, 0)
const KEY = makeSigningKey(0)
const MASTER: MasterKeyVersion = { kmsId: 'kms-test', version: 1, material: Buffer.alloc(32, 9) }

function at<T>(list: readonly T[], index: number): T {
  const item = list[index]
  assert.ok(item !== undefined, `no item ${index}`)
  return item
}

describe('opencts verify (command line)', () => {
  const root = mkdtempSync(join(tmpdir(), 'opencts-verify-'))
  after(() => rmSync(root, { recursive: true, force: true }))
  const publicKeys = join(root, 'public-keys.json')
  writeFileSync(publicKeys, JSON.stringify({ digest_keys: [KEY.view] }))
  const keyFile = join(root, 'kms-keys.json')
  writeFileSync(
    keyFile,
    JSON.stringify({
      kms_keys: [
        {
          id: MASTER.kmsId,
          name: 'test',
          versions: [{ version: 1, material: MASTER.material.toString('base64'), created_at: 0 }],
        },
      ],
    }),
  )

  function cli(argv: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
    return runCliInProcess(['verify', ...argv], { env, now: () => TO })
  }

  /** A fixture in its own object folder; returns the folder's flags. */
  async function folder(name: string, options: Partial<FixtureOptions> = {}) {
    const dir = join(root, name)
    const sink = new FsObjectSink(dir)
    const fixture = await writeFixture({
      sink,
      bucket: BUCKET,
      region: REGION,
      projectId: PROJECT,
      key: KEY,
      start: START,
      periods: 6,
      ...options,
    })
    const flags = [
      '--bucket',
      BUCKET,
      '--dir',
      dir,
      '--region',
      REGION,
      '--public-keys',
      publicKeys,
    ]
    return { sink, fixture, flags: [...flags, '--from', '2026-01-09T21:00:00Z'] }
  }

  it('exits 0 with a valid report as JSON for a clean bucket', async () => {
    const { flags } = await folder('clean')
    const run = await cli([...flags, '--json'])
    assert.equal(run.status, 0, run.stderr)
    const report = JSON.parse(run.stdout)
    assert.equal(report.summary.ok, true)
    assert.deepEqual(report.summary.digests, { valid: 6, invalid: 0 })
    assert.equal(report.to, TO, '--to defaults to now')
    assert.equal(run.stderr, '', 'no progress line when stderr is not a terminal')
  })

  it('exits 1 and names the finding, as JSON and as lines', async () => {
    const { sink, fixture, flags } = await folder('deleted')
    const file = at(fixture.files, 3)
    await sink.delete(BUCKET, file.key)
    const json = await cli([...flags, '--json'])
    assert.equal(json.status, 1)
    const report = JSON.parse(json.stdout)
    assert.deepEqual(
      report.files.filter((f: any) => f.status === 'INVALID'),
      [
        {
          bucket: BUCKET,
          key: file.key,
          digest: file.digest,
          status: 'INVALID',
          reason: 'not found',
        },
      ],
    )
    const text = await cli(flags)
    assert.equal(text.status, 1)
    assert.match(text.stdout, new RegExp(`^file ${file.key} INVALID: not found$`, 'm'))
    assert.match(text.stdout, new RegExp(`^digest ${file.digest} valid$`, 'm'))
    assert.match(text.stdout, /^Result: INVALID \(1 finding\)$/m)
  })

  it('checks encrypted files by hash only, or decrypts them with --keys', async () => {
    const { flags } = await folder('encrypted', { encryptWith: MASTER })
    const hashOnly = await cli(flags)
    assert.equal(hashOnly.status, 0, hashOnly.stdout)
    assert.match(hashOnly.stdout, /^file \S+ valid \(encrypted, content not checked\)$/m)
    assert.match(hashOnly.stdout, /12 valid, 0 INVALID \(12 encrypted, content not checked\)/)
    const decrypted = await cli([...flags, '--keys', keyFile])
    assert.equal(decrypted.status, 0, decrypted.stdout)
    assert.doesNotMatch(decrypted.stdout, /content not checked/)
  })

  it('exits 2 on usage errors', async () => {
    const { flags } = await folder('usage')
    const cases: [string[], RegExp][] = [
      [flags.filter((f) => f !== '--public-keys' && f !== publicKeys), /--public-keys is required/],
      [[...flags, '--s3-endpoint', 'http://127.0.0.1:9000'], /exactly one of --dir/],
      [[...flags, '--s3-secret-key', 'x'], /no --s3-secret-key flag/],
      [[...flags, '--grace', '5 minutes'], /--grace must be/],
      [[...flags, '--to', '2026-01-09T20:00:00Z'], /--from must be before --to/],
      [[...flags, '--project-id', 'nope'], /--project-id must be 32/],
    ]
    for (const [argv, pattern] of cases) {
      const run = await cli(argv)
      assert.equal(run.status, 2, argv.join(' '))
      assert.match(run.stderr, pattern)
    }
    const badKeys = join(root, 'bad-keys.json')
    writeFileSync(badKeys, '{"digest_keys":[]}')
    const run = await cli([...flags, '--public-keys', badKeys])
    assert.equal(run.status, 2)
    assert.match(run.stderr, /digest_keys is empty/)
  })

  it('asks for --project-id when several projects share the folder (exit 2)', async () => {
    const other = 'fedcba9876543210fedcba9876543210'
    const { flags } = await folder('projects')
    await writeFixture({
      sink: new FsObjectSink(join(root, 'projects')),
      bucket: BUCKET,
      region: REGION,
      projectId: other,
      regionSegment: `${REGION}-${other}`,
      key: KEY,
      start: START,
      periods: 6,
    })
    const run = await cli(flags)
    assert.equal(run.status, 2)
    assert.match(run.stderr, /several projects.*--project-id/)
    assert.equal((await cli([...flags, '--project-id', other])).status, 0)
  })
})
