/**
 * The verifiable log from the command line, end to end: a server on loopback (real HTTP), traces
 * ingested with `opencts ingest`, checkpoints signed by the server's checkpointer, then what a
 * third party keeps saved with `opencts log checkpoint|proof|consistency|keys` and checked with
 * `opencts verify --proof` / `--checkpoints`, all through the real CLI in-process. Each tampering
 * (an edited trace, an altered audit path, a checkpoint of another project, an altered note, a
 * proof of another tree size) and each forged history (a FORK and a rewrite, both signed with the
 * server's own checkpoint key) must be caught with exit status 1 and a reason saying what failed;
 * the untouched files must verify (exit 0), so no check passes by failing everything.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { MasterKey } from '../src/auth/index.js'
import { loadConfig } from '../src/config/config.js'
import { buildApp } from '../src/http/app.js'
import { checkpointOrigin, publicKeyId, signCheckpoint } from '../src/integrity/checkpoint.js'
import { leafHash, MemoryTree } from '../src/integrity/merkle.js'
import { OFFLOADED_TRACE_LOG_HASHING } from '../src/log/leaf-hash-pool.js'
import { LogKeys } from '../src/log/log-keys.js'
import { checkCheckpoints, LogKeysError, verifyTraceProof } from '../src/log/verify-proofs.js'
import type { TraceRecord } from '../src/model/index.js'
import { leafTextOf, traceDocument, traceLeaf } from '../src/model/trace-leaf.js'
import { FakeClock, randomIds } from '../src/platform/clock.js'
import { createServices, type Services } from '../src/services.js'
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite/index.js'
import { makeTrace, reportedTrace } from './helpers/make-trace.js'
import { runCliInProcess, type CliRun } from './helpers/run-cli-in-process.js'
import {
  ADMIN_AK,
  ADMIN_SK,
  TEST_ACCOUNT,
  TEST_NOW,
  TEST_PROJECTS,
  TEST_SCRYPT_COST,
} from './helpers/test-app.js'

const [PROJECT, OTHER] = TEST_PROJECTS

interface LogServer {
  readonly url: string
  readonly app: FastifyInstance
  readonly store: SqliteStore
  readonly services: Services
  readonly clock: FakeClock
  /** The server's checkpoint keys, over the same store and master key (for forging notes). */
  readonly logKeys: LogKeys
}

/**
 * The application of test-app.ts (same identity: account `test`, the TEST_PROJECTS, user `admin`
 * with ADMIN_AK/ADMIN_SK), listening on 127.0.0.1; built here to keep its master key, so the test
 * can unseal the server's own checkpoint key.
 */
async function startLogServer(dir: string): Promise<LogServer> {
  const config = loadConfig({}, { dataDir: dir })
  const store = openSqliteStore({
    path: join(dir, 'opencts.db'),
    merkle: OFFLOADED_TRACE_LOG_HASHING,
  })
  const clock = new FakeClock(TEST_NOW)
  const masterKey = MasterKey.generate()
  const services = createServices({
    config,
    store,
    clock,
    ids: randomIds,
    masterKey,
    passwordCost: TEST_SCRYPT_COST,
  })
  const app = await buildApp(services, { logLevel: false })
  const admin = services.identity
  await admin.createAccount({ name: 'test', id: TEST_ACCOUNT })
  for (const id of TEST_PROJECTS)
    await admin.createProject({ account: 'test', name: `project-${id.slice(0, 8)}`, id })
  await admin.createUser({ account: 'test', name: 'admin' })
  await admin.grant({ account: 'test', user: 'admin', policy: 'CTS Administrator' })
  await admin.createAccessKey({
    account: 'test',
    user: 'admin',
    accessKeyId: ADMIN_AK,
    secretKey: ADMIN_SK,
  })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  const logKeys = new LogKeys({
    store: store.merkle,
    sealer: masterKey,
    clock,
    keyName: config.logKeyName,
  })
  return { url, app, store, services, clock, logKeys }
}

describe('opencts log and opencts verify --proof/--checkpoints against a server', () => {
  let dir = ''
  let server: LogServer
  let credentials = ''
  /** Trace ids of PROJECT, in ingestion order (leaf order). */
  const ids: string[] = []
  /** Tree sizes of cp1.txt, cp2.txt, cp3.txt. */
  const sizes: number[] = []
  const size = (n: 1 | 2 | 3): number => sizes[n - 1] ?? 0

  const cli = (argv: readonly string[]): Promise<CliRun> =>
    runCliInProcess(argv, { now: () => server.clock.now() })
  const path = (name: string): string => join(dir, name)
  const read = (name: string): string => readFileSync(path(name), 'utf8')
  const write = (name: string, text: string): string => {
    writeFileSync(path(name), text)
    return path(name)
  }

  /** Runs a client command with the credentials file; it must succeed. */
  async function client(argv: readonly string[]): Promise<string> {
    const run = await cli([...argv, '--credentials', credentials])
    assert.equal(run.status, 0, `opencts ${argv.join(' ')}: ${run.stderr}`)
    return run.stdout
  }

  /** Ingests `count` traces through the CLI; returns their ids. */
  async function ingest(count: number, project: string = PROJECT): Promise<string[]> {
    const lines = Array.from({ length: count }, (_, i) =>
      JSON.stringify(
        reportedTrace({ time: server.clock.now() - 1000 + i, resource_name: `image-${i}` }),
      ),
    )
    const run = await runCliInProcess(
      ['ingest', '-', '--credentials', credentials, '--project', project],
      { stdin: `${lines.join('\n')}\n`, now: () => server.clock.now() },
    )
    assert.equal(run.status, 0, run.stderr)
    const stored = run.stdout.split('\n').slice(1).filter(Boolean)
    assert.equal(stored.length, count, run.stdout)
    return stored
  }

  /** Signs a checkpoint now (as the server does every second) and moves the clock on. */
  async function checkpoint(): Promise<void> {
    assert.equal(await server.services.checkpointer.runOnce(), 1)
    server.clock.advance(1000)
  }

  const verifyProof = (proof: string, note: string, keys = path('keys.json')): Promise<CliRun> =>
    cli(['verify', '--proof', proof, '--checkpoint', note, '--log-keys', keys])

  /** A note of PROJECT signed with the server's own key. */
  async function forgedNote(size: number, root: Buffer): Promise<string> {
    const signer = await server.logKeys.signer()
    return signCheckpoint(
      { origin: checkpointOrigin(PROJECT), size, root, time: server.clock.now() },
      signer.keyName,
      signer.privateKey,
    )
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'opencts-verify-proofs-'))
    server = await startLogServer(dir)
    credentials = write(
      'credentials',
      `[default]\nendpoint = ${server.url}\nproject_id = ${PROJECT}\n` +
        `access_key = ${ADMIN_AK}\nsecret_key = ${ADMIN_SK}\n`,
    )
    // Three growing checkpoints of PROJECT, each saved as a third party would. Sizes are read
    // from the notes: the log also holds the server's own audit traces.
    for (const n of [1, 2, 3]) {
      ids.push(...(await ingest(2)))
      await checkpoint()
      write(`cp${n}.txt`, await client(['log', 'checkpoint']))
      sizes.push(Number(read(`cp${n}.txt`).split('\n')[1]))
    }
    write('keys.json', await client(['log', 'keys']))
    write('proof.json', await client(['log', 'proof', '--trace-id', ids[1] ?? '']))
    write(
      'proof-earlier.json',
      await client(['log', 'proof', '--trace-id', ids[1] ?? '', '--tree-size', String(size(2))]),
    )
    // A checkpoint of the other project.
    await ingest(1, OTHER)
    await checkpoint()
    write('other.txt', await client(['log', 'checkpoint', '--project', OTHER]))
  })

  after(async () => {
    await server.app.close()
    await server.store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('saves checkpoint notes, proofs and keys with opencts log', async () => {
    assert.ok(size(1) >= 2 && size(2) === size(1) + 2 && size(3) === size(2) + 2, sizes.join(', '))
    assert.match(
      read('cp3.txt'),
      new RegExp(
        `^opencts/${PROJECT}\n${size(3)}\n[A-Za-z0-9+/=]{44}\ntime \\d+\n\n\u2014 opencts `,
      ),
    )
    const keys = JSON.parse(read('keys.json'))
    assert.equal(keys.keys.length, 1)
    assert.equal(keys.keys[0].algorithm, 'Ed25519')
    const proof = JSON.parse(read('proof.json'))
    assert.equal(proof.trace_id, ids[1])
    assert.equal(proof.tree_size, size(3))
    assert.equal(proof.trace.trace_id, ids[1])
    assert.equal(proof.checkpoint.note, read('cp3.txt'))
    assert.equal(JSON.parse(read('proof-earlier.json')).tree_size, size(2))
    const consistency = JSON.parse(await client(['log', 'consistency', '--first', String(size(1))]))
    assert.equal(consistency.first, size(1))
    assert.equal(consistency.second, size(3))
    assert.ok(consistency.proof.length > 0)
    const json = JSON.parse(
      await client(['log', 'checkpoint', '--tree-size', String(size(2)), '--json']),
    )
    assert.equal(json.checkpoint.tree_size, size(2))
    assert.equal(json.checkpoint.note, read('cp2.txt'))
    const missing = await cli(['log', 'proof', '--credentials', credentials])
    assert.equal(missing.status, 2)
    assert.match(missing.stderr, /needs --trace-id/)
    const unknown = await cli(['log', 'proof', '--trace-id', 'nope', '--credentials', credentials])
    assert.equal(unknown.status, 1)
    assert.match(unknown.stderr, /no checkpoint|not in the log/)
  })

  it('verifies a trace with its inclusion proof against a saved checkpoint (exit 0)', async () => {
    const leaf = JSON.parse(read('proof.json')).leaf_index
    const run = await verifyProof(path('proof.json'), path('cp3.txt'))
    assert.equal(run.status, 0, run.stdout + run.stderr)
    assert.match(
      run.stdout,
      new RegExp(`^trace ${ids[1]} valid: leaf ${leaf} of the tree of ${size(3)} leaves`),
    )
    assert.match(run.stdout, /Result: valid/)
    const earlier = await verifyProof(path('proof-earlier.json'), path('cp2.txt'))
    assert.equal(earlier.status, 0, earlier.stdout)
    const json = await cli([
      'verify',
      '--proof',
      path('proof.json'),
      '--checkpoint',
      path('cp3.txt'),
      '--log-keys',
      path('keys.json'),
      '--json',
    ])
    assert.equal(json.status, 0)
    const report = JSON.parse(json.stdout)
    assert.equal(report.result.ok, true)
    assert.equal(report.result.tree_size, size(3))
    assert.equal(report.result.leaf_hash, JSON.parse(read('proof.json')).leaf_hash)
  })

  it('reports an edited trace, naming the trace and its leaf (exit 1)', async () => {
    const proof = JSON.parse(read('proof.json'))
    proof.trace.resource_name = 'not-what-was-logged'
    const run = await verifyProof(write('edited.json', JSON.stringify(proof)), path('cp3.txt'))
    assert.equal(run.status, 1, run.stdout)
    assert.match(
      run.stdout,
      new RegExp(`trace edited: leaf hash differs: trace ${ids[1]} \\(leaf ${proof.leaf_index}\\)`),
    )
    assert.match(run.stdout, /Result: INVALID \(1 finding\)/)
    const json = await cli([
      'verify',
      '--proof',
      path('edited.json'),
      '--checkpoint',
      path('cp3.txt'),
      '--log-keys',
      path('keys.json'),
      '--json',
    ])
    assert.equal(json.status, 1)
    assert.equal(JSON.parse(json.stdout).result.code, 'trace-edited')
    // Setting leaf_hash to the edited trace's hash does not help: the path leads elsewhere.
    proof.leaf_hash = leafHash(leafTextOf(traceDocument(proof.trace))).toString('hex')
    const covered = await verifyProof(write('covered.json', JSON.stringify(proof)), path('cp3.txt'))
    assert.equal(covered.status, 1, covered.stdout)
    assert.match(covered.stdout, /INVALID: proof does not lead to the checkpoint root/)
    // A field the leaf does not hold cannot be smuggled in either.
    const added = JSON.parse(read('proof.json'))
    added.trace.approved_by = 'mallory'
    const extra = await verifyProof(write('added.json', JSON.stringify(added)), path('cp3.txt'))
    assert.equal(extra.status, 1)
    assert.match(extra.stdout, /fields no leaf holds: "approved_by"/)
  })

  it('reports an altered audit path (exit 1)', async () => {
    const proof = JSON.parse(read('proof.json'))
    const sibling: string = proof.audit_path[0]
    proof.audit_path[0] = `${sibling[0] === '0' ? '1' : '0'}${sibling.slice(1)}`
    const run = await verifyProof(write('sibling.json', JSON.stringify(proof)), path('cp3.txt'))
    assert.equal(run.status, 1, run.stdout)
    assert.match(run.stdout, /INVALID: proof does not lead to the checkpoint root/)
    const short = JSON.parse(read('proof.json'))
    short.audit_path.pop()
    const dropped = await verifyProof(write('short.json', JSON.stringify(short)), path('cp3.txt'))
    assert.equal(dropped.status, 1)
    assert.match(dropped.stdout, /proof does not lead to the checkpoint root.*proof has \d+ nodes/)
  })

  it('reports a checkpoint of another project (exit 1)', async () => {
    const run = await verifyProof(path('proof.json'), path('other.txt'))
    assert.equal(run.status, 1, run.stdout)
    assert.match(
      run.stdout,
      new RegExp(`INVALID: checkpoint of another project: its origin is "opencts/${OTHER}"`),
    )
  })

  it('reports an altered checkpoint note: its signature fails (exit 1)', async () => {
    const altered = read('cp3.txt').replace(
      /^time (\d+)$/m,
      (_, ms: string) => `time ${Number(ms) + 1}`,
    )
    assert.notEqual(altered, read('cp3.txt'))
    const run = await verifyProof(path('proof.json'), write('altered.txt', altered))
    assert.equal(run.status, 1, run.stdout)
    assert.match(
      run.stdout,
      /INVALID: checkpoint signature invalid: signature of opencts does not verify/,
    )
  })

  it('reports a proof of another tree size than the checkpoint (exit 1)', async () => {
    const run = await verifyProof(path('proof-earlier.json'), path('cp3.txt'))
    assert.equal(run.status, 1, run.stdout)
    assert.match(
      run.stdout,
      new RegExp(`the proof is for tree size ${size(2)}, the checkpoint is of size ${size(3)}`),
    )
  })

  it('refuses a keys file whose key id is not its key, and usage errors (exit 2)', async () => {
    const keys = JSON.parse(read('keys.json'))
    keys.keys[0].key_id = keys.keys[0].key_id === '00000000' ? '00000001' : '00000000'
    const badKeys = await verifyProof(
      path('proof.json'),
      path('cp3.txt'),
      write('bad-keys.json', JSON.stringify(keys)),
    )
    assert.equal(badKeys.status, 2)
    assert.match(badKeys.stderr, /--log-keys .*the key id of opencts and its key is [0-9a-f]{8}/)
    const proof = path('proof.json')
    const note = path('cp3.txt')
    const logKeys = ['--log-keys', path('keys.json')]
    const cases: [string[], RegExp][] = [
      [['verify', '--proof', proof, '--checkpoint', note], /--log-keys is required/],
      [['verify', '--proof', proof, ...logKeys], /--checkpoint is required/],
      [['verify', '--checkpoints', ...logKeys], /argument is ambiguous/],
      [['verify', ...logKeys], /give --proof FILE --checkpoint FILE, or --checkpoints FILE/],
      [['verify', '--checkpoints', note, '-p', PROJECT, ...logKeys], /no --project/],
      [['verify', '--proof', proof, note, ...logKeys], /unexpected argument/],
      [['verify', '--proof', proof, '--checkpoints', note, ...logKeys], /not both/],
      [['verify', '--checkpoints', note, '--offline', '-e', server.url, ...logKeys], /--offline/],
    ]
    for (const [argv, pattern] of cases) {
      const run = await cli(argv)
      assert.equal(run.status, 2, `${argv.join(' ')}: ${run.stdout}`)
      assert.match(run.stderr, pattern)
    }
  })

  it('verifies growing checkpoints with consistency proofs from the server (exit 0)', async () => {
    const run = await cli([
      'verify',
      '--checkpoints',
      path('cp1.txt'),
      path('cp3.txt'),
      path('cp2.txt'),
      '--log-keys',
      path('keys.json'),
      '--credentials',
      credentials,
    ])
    assert.equal(run.status, 0, run.stdout + run.stderr)
    const pair = (a: 1 | 2 | 3, b: 1 | 2 | 3): string =>
      `consistency cp${a}\\.txt \\(size ${size(a)}\\) -> cp${b}\\.txt \\(size ${size(b)}\\)`
    assert.match(run.stdout, new RegExp(`^${pair(1, 2)} valid$`, 'm'))
    assert.match(run.stdout, new RegExp(`^${pair(2, 3)} valid$`, 'm'))
    assert.match(run.stdout, /3 checkpoints: 3 valid, 0 INVALID/)
    assert.match(run.stdout, /2 consistency proofs: 2 valid, 0 INVALID/)
    assert.match(run.stdout, /Result: valid/)
  })

  it('verifies checkpoints offline with saved consistency proofs', async () => {
    const [s1, s2, s3] = [size(1), size(2), size(3)].map(String) as [string, string, string]
    write('c12.json', await client(['log', 'consistency', '--first', s1, '--second', s2]))
    write('c23.json', await client(['log', 'consistency', '--first', s2, '--second', s3]))
    const notes = ['--checkpoints', path('cp1.txt'), path('cp2.txt'), path('cp3.txt')]
    const keys = ['--log-keys', path('keys.json')]
    const offline = await cli([
      'verify',
      ...notes,
      ...keys,
      '--consistency-proofs',
      path('c12.json'),
      path('c23.json'),
      '--offline',
    ])
    assert.equal(offline.status, 0, offline.stdout)
    const missing = await cli([
      'verify',
      ...notes,
      ...keys,
      '--consistency-proofs',
      path('c12.json'),
      '--offline',
    ])
    assert.equal(missing.status, 1, missing.stdout)
    assert.match(
      missing.stdout,
      new RegExp(
        `-> cp3\\.txt \\(size ${s3}\\) INVALID: no consistency proof for sizes ${s2} and ${s3}`,
      ),
    )
    // A saved proof for another pair of trees does not pass.
    const swapped = JSON.parse(read('c23.json'))
    swapped.proof = JSON.parse(read('c12.json')).proof
    const wrong = await cli([
      'verify',
      ...notes,
      ...keys,
      '--consistency-proofs',
      path('c12.json'),
      write('c23-wrong.json', JSON.stringify(swapped)),
      '--offline',
    ])
    assert.equal(wrong.status, 1, wrong.stdout)
    assert.match(
      wrong.stdout,
      new RegExp(
        `checkpoint cp2\\.txt \\(size ${s2}\\) is not a prefix of cp3\\.txt \\(size ${s3}\\)`,
      ),
    )
  })

  it('detects a FORK: a second note of one size with another root, signed with the real key', async () => {
    const other = new MemoryTree()
    for (let i = 0; i < size(2); i++) other.append(Buffer.from(`forked leaf ${i}`))
    write('fork.txt', await forgedNote(size(2), other.root()))
    const keys = ['--log-keys', path('keys.json')]
    const alone = await cli(['verify', '--checkpoints', path('fork.txt'), ...keys, '--offline'])
    assert.equal(alone.status, 0, `the forged note is validly signed: ${alone.stdout}`)
    const args = [
      'verify',
      '--checkpoints',
      path('cp1.txt'),
      path('cp2.txt'),
      path('fork.txt'),
      path('cp3.txt'),
      ...keys,
      '--credentials',
      credentials,
    ]
    const run = await cli(args)
    assert.equal(run.status, 1, run.stdout)
    assert.match(
      run.stdout,
      new RegExp(
        `^FORK at size ${size(2)} of opencts/${PROJECT} INVALID: cp2\\.txt, fork\\.txt are ` +
          `checkpoints of size ${size(2)} with different roots`,
        'm',
      ),
    )
    assert.match(run.stdout, new RegExp(`^consistency cp1\\.txt .* -> cp2\\.txt .* valid$`, 'm'))
    assert.match(
      run.stdout,
      /INVALID: checkpoint cp1\.txt \(size \d+\) is not a prefix of fork\.txt/,
    )
    assert.match(
      run.stdout,
      /INVALID: checkpoint fork\.txt \(size \d+\) is not a prefix of cp3\.txt/,
    )
    const json = JSON.parse((await cli([...args, '--json'])).stdout)
    assert.equal(json.summary.forks, 1)
    assert.equal(json.summary.consistency.invalid, 2)
    assert.equal(json.summary.ok, false)
    assert.deepEqual(
      json.forks[0].checkpoints.map((c: { name: string }) => c.name),
      ['cp2.txt', 'fork.txt'],
    )
  })

  it('detects a rewrite: a larger signed tree that does not extend an earlier checkpoint', async () => {
    const rewritten = new MemoryTree()
    const forged = size(2) + 1
    for (let i = 0; i < forged; i++) rewritten.append(Buffer.from(`rewritten leaf ${i}`))
    write('rewrite.txt', await forgedNote(forged, rewritten.root()))
    const run = await cli([
      'verify',
      '--checkpoints',
      path('cp1.txt'),
      path('cp2.txt'),
      path('rewrite.txt'),
      '--log-keys',
      path('keys.json'),
      '--credentials',
      credentials,
    ])
    assert.equal(run.status, 1, run.stdout)
    assert.match(run.stdout, /^checkpoint rewrite\.txt valid: /m)
    assert.match(run.stdout, new RegExp(`^consistency cp1\\.txt .* -> cp2\\.txt .* valid$`, 'm'))
    assert.match(
      run.stdout,
      new RegExp(
        `INVALID: checkpoint cp2\\.txt \\(size ${size(2)}\\) is not a prefix of rewrite\\.txt ` +
          `\\(size ${forged}\\): the log was rewritten or forked`,
      ),
    )
    assert.match(run.stdout, /Result: INVALID \(1 finding\)/)
  })
})

describe('log/verify-proofs without a server', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const keys = [
    {
      key_name: 'unit',
      key_id: publicKeyId('unit', publicKey).toString('hex'),
      public_key: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    },
  ]
  const project = 'fedcba9876543210fedcba9876543210'
  const traces = Array.from({ length: 5 }, (_, i) =>
    makeTrace({ project_id: project, resource_name: `r${i}`, time: TEST_NOW - i }),
  )
  const tree = new MemoryTree()
  for (const trace of traces) tree.append(traceLeaf(trace))
  const note = (size: number, root = tree.root(size), key = privateKey, name = 'unit'): string =>
    signCheckpoint({ origin: checkpointOrigin(project), size, root, time: TEST_NOW }, name, key)
  const proofOf = (index: number, size = tree.size): Record<string, unknown> => ({
    trace_id: traces[index]?.trace_id,
    leaf_index: index,
    tree_size: size,
    leaf_hash: leafHash(traceLeaf(traces[index] as TraceRecord)).toString('hex'),
    audit_path: tree.inclusionProof(index, size).map((h) => h.toString('hex')),
    trace: JSON.parse(JSON.stringify(traces[index])),
  })

  it('verifies every leaf of a tree, and reports a wrong leaf_hash field', () => {
    for (let i = 0; i < tree.size; i++) {
      const result = verifyTraceProof(proofOf(i), note(tree.size), keys)
      assert.equal(result.ok, true, JSON.stringify(result))
    }
    const proof = proofOf(3)
    proof.leaf_hash = '00'.repeat(32)
    const result = verifyTraceProof(proof, note(tree.size), keys)
    assert.equal(result.ok, false)
    assert.equal(result.ok ? '' : result.code, 'leaf-hash-mismatch')
  })

  it('names the first problem of a malformed proof or an unknown key', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...proofOf(0), leaf_index: -1 }, /leaf_index must be an integer of at least 0/],
      [{ ...proofOf(0), tree_size: '5' }, /tree_size must be an integer/],
      [{ ...proofOf(0), audit_path: ['zz'] }, /audit_path\[0\] must be 64 lowercase hex/],
      [{ ...proofOf(0), trace: undefined }, /trace must be an object/],
      [{ ...proofOf(0), trace_id: traces[1]?.trace_id }, /trace\.trace_id .* is not trace_id/],
    ]
    for (const [proof, pattern] of cases) {
      const result = verifyTraceProof(proof, note(tree.size), keys)
      assert.equal(result.ok ? '' : result.code, 'malformed-proof')
      assert.match(result.ok ? '' : result.reason, pattern)
    }
    const stranger = generateKeyPairSync('ed25519').privateKey
    const unknown = verifyTraceProof(proofOf(0), note(tree.size, undefined, stranger, 'x'), keys)
    assert.equal(unknown.ok ? '' : unknown.code, 'unknown-key')
    const sameName = verifyTraceProof(proofOf(0), note(tree.size, undefined, stranger), keys)
    assert.equal(sameName.ok ? '' : sameName.code, 'unknown-key', 'another key id, same name')
    assert.throws(
      () => verifyTraceProof(proofOf(0), note(tree.size), [{ ...keys[0]!, key_id: '01020304' }]),
      LogKeysError,
    )
  })

  it('accepts the same checkpoint twice and asks for each pair of sizes once', async () => {
    const asked: string[] = []
    const report = await checkCheckpoints(
      [
        { name: 'a', text: note(2) },
        { name: 'b', text: note(5) },
        { name: 'a2', text: note(2) },
        { name: 'c', text: note(4) },
      ],
      keys,
      async (projectId, first, second) => {
        asked.push(`${projectId} ${first} ${second}`)
        return tree.consistencyProof(first, second).map((h) => h.toString('hex'))
      },
    )
    assert.deepEqual(asked, [`${project} 2 4`, `${project} 4 5`])
    assert.equal(report.summary.ok, true, JSON.stringify(report))
    assert.equal(report.forks.length, 0)
    const failing = await checkCheckpoints(
      [
        { name: 'a', text: note(2) },
        { name: 'b', text: note(5) },
      ],
      keys,
      async () => {
        throw new Error('server down')
      },
    )
    assert.equal(failing.summary.findings, 1)
    assert.equal(failing.consistency[0]?.code, 'proof-unavailable')
    assert.match(failing.consistency[0]?.reason ?? '', /server down/)
  })
})
