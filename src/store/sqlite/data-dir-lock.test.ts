import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'node:test'
import { isOpenCtsError } from '../../errors/index.js'
import { lockDataDir, PID_FILE } from './data-dir-lock.js'

it('one holder at a time: a second lock fails naming the directory and PID; release frees it', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'opencts-lock-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const lock = lockDataDir(dir)
  assert.throws(
    () => lockDataDir(dir),
    (error: unknown) =>
      isOpenCtsError(error) &&
      error.code === 'OCTS_ERR_DATA_DIR_IN_USE' &&
      error.message.includes(dir) &&
      error.message.includes(`PID ${process.pid}`),
  )
  lock.release()
  lock.release()
  const again = lockDataDir(dir)
  again.release()
})

it('a stale PID file of a dead holder does not block a start', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'opencts-lock-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, PID_FILE), '999999\n')
  const lock = lockDataDir(dir)
  lock.release()
})
