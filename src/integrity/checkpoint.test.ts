import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { it } from 'node:test'
import {
  checkpointOrigin,
  formatCheckpointBody,
  parseCheckpoint,
  publicKeyId,
  signCheckpoint,
  verifyCheckpoint,
  type Checkpoint,
} from './checkpoint.js'

const key = generateKeyPairSync('ed25519')
const other = generateKeyPairSync('ed25519')
const cp: Checkpoint = {
  origin: checkpointOrigin('p1'),
  size: 8,
  root: Buffer.alloc(32, 7),
  time: 1700000000000,
}

it('formats the body byte for byte', () => {
  assert.equal(
    formatCheckpointBody(cp),
    `opencts/p1\n8\n${Buffer.alloc(32, 7).toString('base64')}\ntime 1700000000000\n`,
  )
})

it('signs, parses and verifies a note', () => {
  const text = signCheckpoint(cp, 'opencts-log', key.privateKey)
  assert.match(text, /\n\n\u2014 opencts-log [A-Za-z0-9+/]{91}=\n$/)
  assert.deepEqual(verifyCheckpoint(text, 'opencts-log', key.publicKey, 'opencts/p1'), cp)
  const [sig] = parseCheckpoint(text).signatures
  assert.deepEqual(sig?.keyId, publicKeyId('opencts-log', key.publicKey))
  assert.equal(sig?.signature.length, 64)
})

it('rejects another project, another key, a changed body and extra bytes, with a reason', () => {
  const text = signCheckpoint(cp, 'opencts-log', key.privateKey)
  assert.throws(() => verifyCheckpoint(text, 'opencts-log', key.publicKey, 'opencts/p2'), {
    code: 'origin-mismatch',
  })
  assert.throws(() => verifyCheckpoint(text, 'opencts-log', other.publicKey), {
    code: 'unknown-key',
  })
  assert.throws(() => verifyCheckpoint(text, 'other-log', key.publicKey), { code: 'unknown-key' })
  assert.throws(
    () => verifyCheckpoint(text.replace('\n8\n', '\n9\n'), 'opencts-log', key.publicKey),
    { code: 'bad-signature' },
  )
  assert.throws(() => verifyCheckpoint(`${text}x`, 'opencts-log', key.publicKey), {
    code: 'trailing-data',
  })
  assert.throws(() => parseCheckpoint(text.replace('\n\n', '\n')), { code: 'bad-format' })
  assert.throws(() => parseCheckpoint(text.replace('opencts/p1', 'example.com/log')), {
    code: 'unknown-format',
  })
  assert.throws(() => parseCheckpoint(text.replace('\n8\n', '\n08\n')), { code: 'bad-format' })
})

it('keeps cosignatures and verifies the one asked for', () => {
  const mine = signCheckpoint(cp, 'opencts-log', key.privateKey)
  const theirs = signCheckpoint(cp, 'witness', other.privateKey)
  const both = `${mine}${theirs.slice(theirs.indexOf('\n\n') + 2)}`
  assert.equal(parseCheckpoint(both).signatures.length, 2)
  assert.deepEqual(verifyCheckpoint(both, 'witness', other.publicKey), cp)
})
