import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { it } from 'node:test'
import {
  DigestFormatError,
  digestJson,
  digestSigningString,
  parseDigest,
  publicKeyFingerprint,
  sha256Hex,
  signDigest,
  verifyDigestSignature,
  type DigestDocument,
} from './digest.js'

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const other = generateKeyPairSync('rsa', { modulusLength: 2048 })

const doc: DigestDocument = {
  digest_version: '1',
  project_id: 'p1',
  digest_start_time: '2026-11-21T11-00-00Z',
  digest_end_time: '2026-11-21T12-00-00Z',
  digest_period_seconds: 3600,
  digest_bucket: 'b1',
  digest_object:
    'CloudTraces/r1/2026/11/21/system/Digest/_CloudTrace-Digest_r1_2026-11-21T12-00-00Z.json.gz',
  digest_signature_algorithm: 'SHA256withRSA',
  digest_public_key_fingerprint: publicKeyFingerprint(publicKey),
  digest_end: false,
  previous_digest_bucket: '',
  previous_digest_object: '',
  previous_digest_hash_value: '',
  previous_digest_hash_algorithm: 'SHA-256',
  previous_digest_signature: '',
  previous_digest_end: false,
  log_files: [
    {
      bucket: 'b1',
      object: 'k',
      log_hash_value: 'ab'.repeat(32),
      log_hash_algorithm: 'SHA-256',
      trace_count: 1,
      oldest_trace_time: 1,
      newest_trace_time: 2,
    },
  ],
}

it('round-trips the JSON in the documented field order', () => {
  const text = digestJson({ ...doc, log_files: [...doc.log_files] })
  assert.deepEqual(parseDigest(text), doc)
  assert.ok(text.startsWith('{"digest_version":"1","project_id":"p1","digest_start_time"'))
})

it('signs the CTS signing string with SHA256withRSA and detects any change', () => {
  const hash = sha256Hex('stored bytes')
  const text = digestSigningString(doc, hash)
  assert.equal(text, `${doc.digest_end_time}${doc.digest_object}${hash}`)
  const signature = signDigest(privateKey, text)
  assert.equal(signature, signDigest(privateKey, text), 'deterministic')
  assert.ok(verifyDigestSignature(publicKey, text, signature))
  assert.equal(verifyDigestSignature(other.publicKey, text, signature), false)
  assert.equal(verifyDigestSignature(publicKey, `${text}x`, signature), false)
  assert.equal(verifyDigestSignature(publicKey, text, 'zz'), false)
  assert.equal(
    publicKeyFingerprint(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
    doc.digest_public_key_fingerprint,
  )
})

it('rejects unknown versions, wrong types and MD5', () => {
  const bad = (patch: Record<string, unknown>): void =>
    assert.throws(() => parseDigest(JSON.stringify({ ...doc, ...patch })), DigestFormatError)
  bad({ digest_version: '2' })
  bad({ digest_end: 'false' })
  bad({ digest_period_seconds: 0 })
  bad({ previous_digest_hash_algorithm: 'MD5' })
  bad({ log_files: [{ ...doc.log_files[0], log_hash_algorithm: 'MD5' }] })
  bad({ log_files: 'x' })
  assert.throws(() => parseDigest('[1]'), DigestFormatError)
  assert.throws(() => parseDigest('{'), DigestFormatError)
})
