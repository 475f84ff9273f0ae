import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { it } from 'node:test'
import { ERROR_CATALOGUE, OpenCtsError } from '../src/errors/index.js'
import { repoRoot } from './helpers/repo-root.js'

const doc = readFileSync(join(repoRoot(), 'docs', 'errors.md'), 'utf8')
const rows = [
  ...doc.matchAll(
    /^\|\s*<a id="([a-z_]+)"><\/a>`([A-Z_]+)`\s*\|\s*(\d{3})\s*\|\s*`([A-Z]+\.\d{4})`\s*\|/gm,
  ),
]

it('docs/errors.md lists every catalogue entry, and nothing else, with its status and code', () => {
  const names = Object.keys(ERROR_CATALOGUE)
  assert.deepEqual(
    rows.map((r) => r[2]),
    names,
    'same names in the same order',
  )
  for (const row of rows) {
    const [, anchor, name, status, code] = row
    const entry = ERROR_CATALOGUE[name as keyof typeof ERROR_CATALOGUE]
    assert.equal(anchor, name?.toLowerCase())
    assert.equal(Number(status), entry.httpStatus, `${name} status`)
    assert.equal(code, entry.errorCode, `${name} error_code`)
  }
})

it('every entry has a 4xx/5xx status, a body code and a message', () => {
  for (const [name, entry] of Object.entries(ERROR_CATALOGUE)) {
    assert.ok(entry.httpStatus >= 400 && entry.httpStatus < 600, name)
    assert.match(entry.errorCode, /^(CTS|OCTS|APIG|IAM)\.\d{4}$/, name)
    assert.ok(entry.message.length > 0, name)
    const error = new OpenCtsError(name as keyof typeof ERROR_CATALOGUE)
    assert.deepEqual(error.toBody(), { error_code: entry.errorCode, error_msg: entry.message })
  }
})
