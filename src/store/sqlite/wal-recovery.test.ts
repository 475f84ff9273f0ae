import { test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describeWalDamage, inspectWal } from './wal-recovery.js'

/** A database whose log holds `rows` committed rows (the writer left open, as a crash leaves it). */
function crashedCopy(dir: string, rows: number, name = 'copy'): { db: string; wal: string } {
  const live = join(dir, `${name}-live.db`)
  const writer = new Database(live)
  writer.pragma('journal_mode = WAL')
  writer.pragma('wal_autocheckpoint = 0')
  writer.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)')
  const insert = writer.prepare('INSERT INTO t (v) VALUES (?)')
  for (let i = 0; i < rows; i++) insert.run('x'.repeat(500))
  const db = join(dir, `${name}.db`)
  copyFileSync(live, db)
  copyFileSync(`${live}-wal`, `${db}-wal`)
  writer.close()
  return { db, wal: `${db}-wal` }
}

function count(db: string): number {
  const reader = new Database(db)
  try {
    return (reader.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n
  } finally {
    reader.close()
  }
}

test('a clean log has nothing to report; a torn frame after it is found and discarded', () => {
  const dir = mkdtempSync(join(tmpdir(), 'opencts-wal-'))
  try {
    const { db, wal } = crashedCopy(dir, 20)
    const clean = inspectWal(wal)
    assert.ok(clean !== undefined && clean.committedFrames > 0)
    assert.equal(clean.tornBytes, 0)
    assert.equal(describeWalDamage(wal, clean), undefined)

    // A torn write: the header of a next frame of this generation (same salts), then half a page.
    const bytes = readFileSync(wal)
    const pageSize = bytes.readUInt32BE(8)
    const frameHeader = Buffer.from(bytes.subarray(32, 56))
    frameHeader.writeUInt32BE(0, 4) // not a commit frame
    appendFileSync(wal, Buffer.concat([frameHeader, Buffer.alloc(pageSize / 2, 0xab)]))
    const torn = inspectWal(wal)
    assert.equal(torn?.committedFrames, clean.committedFrames)
    assert.equal(torn?.tornBytes, 24 + pageSize / 2)
    assert.match(describeWalDamage(wal, torn) ?? '', /torn frames/)
    assert.equal(count(db), 20)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a whole frame that fails the checksum is torn; another generation left behind is not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'opencts-wal-'))
  try {
    const { db, wal } = crashedCopy(dir, 5)
    const bytes = readFileSync(wal)
    const pageSize = bytes.readUInt32BE(8)
    const frame = Buffer.from(bytes.subarray(32, 32 + 24 + pageSize))
    frame.fill(0x5a, 24)
    appendFileSync(wal, frame)
    assert.equal(inspectWal(wal)?.tornBytes, 24 + pageSize)
    assert.equal(count(db), 5)

    // Frames with other salts (an older, longer generation) are leftovers, not damage.
    const { wal: wal2 } = crashedCopy(dir, 3, 'second')
    const other = Buffer.from(readFileSync(wal2).subarray(32, 32 + 24 + pageSize))
    other.writeUInt32BE((other.readUInt32BE(8) + 1) >>> 0, 8)
    appendFileSync(wal2, other)
    assert.equal(inspectWal(wal2)?.tornBytes, 0)
    assert.equal(inspectWal(join(dir, 'missing-wal')), undefined)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
