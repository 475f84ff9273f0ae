/**
 * The folder object sink: the contract suite, plus what only a folder has (its on-disk layout,
 * key safety, crashes in the middle of a put, real permission errors).
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { FsObjectSink, METADATA_FOLDER, fsErrorCode } from '../src/transfer/fs/index.js'
import { objectSinkContract, rejectsWith, type ObjectSinkFactory } from './object-sink-contract.js'

function tempRoot(): string {
  return mkdtempSync(join(tmpdir(), 'opencts-fs-sink-'))
}

const factory: ObjectSinkFactory = async () => {
  const dir = tempRoot()
  // The sink's root does not exist yet: createBucket must make it.
  const root = join(dir, 'objects')
  const sinks = [new FsObjectSink(root)]
  return {
    sink: sinks[0]!,
    async denied() {
      // As root, chmod denies nothing; a file where the bucket folder should be is refused by the
      // OS for every user (ENOTDIR below it), and the sink reports it as a denied bucket.
      const bucket = 'denied-bucket'
      mkdirSync(root, { recursive: true })
      writeFileSync(join(root, bucket), 'not a folder')
      return { sink: sinks[0]!, bucket }
    },
    unreachable: { skip: 'a local folder has no network to lose (fsErrorCode is tested alone)' },
    async cleanup() {
      for (const sink of sinks) await sink.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

objectSinkContract('fs', factory)

/** Every file under `dir`, relative, sorted. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((path) => statSync(join(dir, path)).isFile())
    .sort()
}

const MB = 1 << 20

/**
 * A child process that puts into bucket `b-1` of a sink on `root`, forever: `same` (1 MB of 0xaa,
 * then 0xbb, alternately) and `new/<i>` (1 MB of byte i % 256, metadata `{ i }`) for i = 0, 1, ….
 * Resolves once the first round of puts has finished; `kill` SIGKILLs it.
 */
async function startWriter(root: string): Promise<{ kill(): Promise<void> }> {
  const moduleUrl = new URL('../src/transfer/fs/index.js', import.meta.url).href
  const code = `
    const [moduleUrl, root] = process.argv.slice(1)
    const { FsObjectSink } = await import(moduleUrl)
    const sink = new FsObjectSink(root)
    for (let i = 0; ; i++) {
      await sink.put('b-1', 'same', Buffer.alloc(${MB}, i % 2 ? 0xbb : 0xaa))
      await sink.put('b-1', 'new/' + i, Buffer.alloc(${MB}, i % 256), { i: String(i) })
      if (i === 0) process.stdout.write('ready\\n')
    }`
  const child = spawn(process.execPath, ['--input-type=module', '-e', code, moduleUrl, root])
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exited = new Promise((resolve) => child.once('exit', () => resolve('exited')))
  const kill = async (): Promise<void> => {
    child.kill('SIGKILL')
    await exited
  }
  const ready = new Promise((resolve) => child.stdout.once('data', () => resolve('ready')))
  const first = await Promise.race([ready, exited, sleep(15_000, 'timeout', { ref: false })])
  if (first !== 'ready') {
    await kill()
    assert.fail(`the writer did not start (${String(first)}): ${stderr}`)
  }
  return { kill }
}

describe('fs object sink', () => {
  it('keeps bodies in <root>/<bucket>/<key> and metadata in <root>/.metadata/<bucket>/<key>.json', async () => {
    const root = tempRoot()
    const sink = new FsObjectSink(root)
    try {
      await sink.createBucket('traces')
      await sink.put('traces', 'CloudTraces/r1/f.json.gz', Buffer.from('gz'), { k: 'v' })
      assert.deepEqual(filesUnder(join(root, 'traces')), ['CloudTraces/r1/f.json.gz'])
      assert.equal(readFileSync(join(root, 'traces/CloudTraces/r1/f.json.gz'), 'utf8'), 'gz')
      const meta = join(root, METADATA_FOLDER, 'traces/CloudTraces/r1/f.json.gz.json')
      assert.deepEqual(JSON.parse(readFileSync(meta, 'utf8')), { k: 'v' })
      // A body placed by hand has no metadata file; it is still an object.
      writeFileSync(join(root, 'traces/by-hand'), 'x')
      assert.deepEqual(await sink.get('traces', 'by-hand'), {
        body: Buffer.from('x'),
        metadata: {},
      })
    } finally {
      await sink.close()
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('rejects unsafe keys and invalid bucket names with a RangeError', async () => {
    const root = tempRoot()
    const sink = new FsObjectSink(root)
    try {
      await sink.createBucket('b-1')
      const keys = ['', '/abs', 'a/../b', '..', 'a/./b', 'a//b', 'a/', 'a\0b', 'a\\b']
      for (const key of [...keys, '.x.tmp-0123456789ab']) {
        await assert.rejects(sink.put('b-1', key, Buffer.from('x')), RangeError, key)
        await assert.rejects(sink.get('b-1', key), RangeError, key)
        await assert.rejects(sink.delete('b-1', key), RangeError, key)
      }
      await assert.rejects(sink.list('b-1', '../'), RangeError)
      for (const bucket of [METADATA_FOLDER, '..', 'ab', 'Upper', 'a/b', '-ab', 'a..b']) {
        await assert.rejects(sink.createBucket(bucket), RangeError, bucket)
        await assert.rejects(sink.put(bucket, 'k', Buffer.from('x')), RangeError, bucket)
      }
      assert.deepEqual(readdirSync(root).sort(), ['b-1'], 'nothing was written')
    } finally {
      await sink.close()
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('never shows what an interrupted put left behind', async () => {
    const root = tempRoot()
    const sink = new FsObjectSink(root)
    try {
      await sink.createBucket('b-1')
      await sink.put('b-1', 'f/old', Buffer.from('old body'), { v: '1' })
      // What a put killed before its rename leaves: a partial temporary file beside the target.
      writeFileSync(join(root, 'b-1/f/.old.tmp-0123456789ab'), 'new bo')
      writeFileSync(join(root, 'b-1/f/.fresh.tmp-abcdef012345'), 'partial')
      assert.deepEqual(await sink.list('b-1', ''), [{ key: 'f/old', size: 8 }])
      assert.deepEqual(await sink.get('b-1', 'f/old'), {
        body: Buffer.from('old body'),
        metadata: { v: '1' },
      })
      assert.equal(await sink.get('b-1', 'f/fresh'), undefined)
    } finally {
      await sink.close()
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('keeps whole objects only when the writing process is killed mid-put', async () => {
    const root = tempRoot()
    const sink = new FsObjectSink(root)
    try {
      await sink.createBucket('b-1')
      for (let round = 0; round < 6; round++) {
        const writer = await startWriter(root)
        await sleep(round * 7)
        await writer.kill()
        const listed = await sink.list('b-1', '')
        assert.ok(listed.length >= 2, 'the first puts finished')
        for (const { key, size } of listed) {
          assert.equal(size, MB, key)
          const got = await sink.get('b-1', key)
          assert.ok(got !== undefined, key)
          const first = key === 'same' ? got.body[0] : Number(key.slice('new/'.length)) % 256
          assert.ok(key === 'same' ? first === 0xaa || first === 0xbb : key.startsWith('new/'))
          assert.ok(
            got.body.every((b) => b === first),
            `${key} is whole`,
          )
        }
      }
    } finally {
      await sink.close()
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('never shows a reader a new body before its metadata', async () => {
    const root = tempRoot()
    const sink = new FsObjectSink(root)
    try {
      await sink.createBucket('b-1')
      const writer = await startWriter(root)
      try {
        // Catch each new object the moment its body appears.
        const deadline = Date.now() + 5_000
        for (let i = 1; i <= 20;) {
          const got = await sink.get('b-1', `new/${i}`)
          if (got !== undefined) {
            assert.deepEqual(got.metadata, { i: String(i) }, `new/${i} has its own metadata`)
            i++
          } else assert.ok(Date.now() < deadline, `new/${i} did not appear`)
        }
      } finally {
        await writer.kill()
      }
    } finally {
      await sink.close()
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('reports a folder the OS refuses to write into as OCTS_ERR_BUCKET_DENIED', async (t) => {
    const root = tempRoot()
    const sink = new FsObjectSink(root)
    const folder = join(root, 'locked')
    // As root only an immutable folder refuses writes (EPERM); as anyone else chmod does (EACCES).
    const asRoot = process.getuid?.() === 0
    const lock = (on: boolean) =>
      asRoot
        ? spawnSync('chattr', [on ? '+i' : '-i', folder]).status === 0
        : (spawnSync('chmod', [on ? '555' : '755', folder]).status ?? 1) === 0
    try {
      await sink.createBucket('locked')
      await sink.put('locked', 'kept', Buffer.from('x'))
      if (!lock(true)) {
        t.skip(
          asRoot ? 'chattr +i is unavailable here (no ext4-like file system?)' : 'chmod failed',
        )
        return
      }
      try {
        await rejectsWith(
          sink.put('locked', 'k', Buffer.from('x')),
          'OCTS_ERR_BUCKET_DENIED',
          'locked',
        )
        assert.equal((await sink.get('locked', 'kept'))?.body.toString(), 'x', 'reads still work')
      } finally {
        lock(false)
      }
    } finally {
      await sink.close()
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('maps errno codes: permission-type → denied, disk full → full, others → unavailable', () => {
    const err = (code: string) => Object.assign(new Error(code), { code })
    for (const code of ['EACCES', 'EPERM', 'EROFS']) {
      assert.equal(fsErrorCode(err(code)), 'OCTS_ERR_BUCKET_DENIED', code)
    }
    for (const code of ['ENOSPC', 'EDQUOT']) {
      assert.equal(fsErrorCode(err(code)), 'OCTS_ERR_OBJECT_STORE_FULL', code)
    }
    for (const code of ['EIO', 'EMFILE']) {
      assert.equal(fsErrorCode(err(code)), 'OCTS_ERR_OBJECT_STORE_UNAVAILABLE', code)
    }
    assert.equal(fsErrorCode(err('ENOENT')), 'OCTS_ERR_NO_BUCKET')
    assert.equal(fsErrorCode(new Error('no code')), 'OCTS_ERR_OBJECT_STORE_UNAVAILABLE')
  })

  it('refuses a key below another key: a path cannot be both an object and a folder', async () => {
    const root = tempRoot()
    const sink = new FsObjectSink(root)
    try {
      await sink.createBucket('b-1')
      await sink.put('b-1', 'a', Buffer.from('x'))
      await rejectsWith(
        sink.put('b-1', 'a/b', Buffer.from('y')),
        'OCTS_ERR_OBJECT_STORE_UNAVAILABLE',
        'a/b',
      )
      assert.deepEqual(await sink.list('b-1', ''), [{ key: 'a', size: 1 }])
    } finally {
      await sink.close()
      rmSync(root, { recursive: true, force: true })
    }
  })
})
