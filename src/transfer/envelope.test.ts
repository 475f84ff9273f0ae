import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { it } from 'node:test'
import { isOpenCtsError } from '../errors/index.js'
import { isEnvelope, openEnvelope, readEnvelopeHeader, sealEnvelope } from './envelope.js'

const master = { kmsId: 'k-1', version: 2, material: randomBytes(32) }
const plain = Buffer.from('[{"trace_id":"x"}]')
const decryptFailed = (e: unknown): boolean =>
  isOpenCtsError(e) && e.code === 'OCTS_ERR_DECRYPT_FAILED'

it('seals and opens with the same master key version; the header names it', () => {
  const sealed = sealEnvelope(plain, master)
  assert.ok(isEnvelope(sealed))
  assert.equal(sealed.indexOf(plain), -1, 'the plaintext does not appear')
  assert.deepEqual(readEnvelopeHeader(sealed), { kmsId: 'k-1', keyVersion: 2 })
  assert.deepEqual(openEnvelope(sealed, master), plain)
  assert.notDeepEqual(sealEnvelope(plain, master), sealed, 'a fresh data key and IV per file')
})

it('refuses another key, another version, and any changed byte', () => {
  const sealed = sealEnvelope(plain, master)
  assert.throws(() => openEnvelope(sealed, { ...master, material: randomBytes(32) }), decryptFailed)
  assert.throws(() => openEnvelope(sealed, { ...master, version: 1 }), decryptFailed)
  for (const at of [0, 9, 20, sealed.length - 20, sealed.length - 1]) {
    const copy = Buffer.from(sealed)
    copy[at] = (copy[at] ?? 0) ^ 0x01
    assert.throws(() => openEnvelope(copy, master), decryptFailed, `byte ${at}`)
  }
  assert.throws(
    () => openEnvelope(Buffer.concat([sealed, Buffer.from('x')]), master),
    decryptFailed,
  )
  assert.throws(() => openEnvelope(sealed.subarray(0, 30), master), decryptFailed)
  assert.throws(() => readEnvelopeHeader(plain), decryptFailed)
})
