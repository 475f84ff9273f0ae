/**
 * Tests of `parsePublicKeysFile`: the digest-keys API body is accepted as is, and a file whose
 * fingerprints do not match their keys, or that is not that body, is refused with the reason.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { describe, it } from 'node:test'
import { publicKeyFingerprint } from '../../integrity/digest.js'
import { PublicKeysFileError, parsePublicKeysFile } from './public-keys-file.js'

function key() {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
  return {
    fingerprint: publicKeyFingerprint(publicKey),
    algorithm: 'SHA256withRSA',
    public_key: publicKey.export({ type: 'spki', format: 'pem' }),
    valid_from: 1767225600000,
    valid_to: null,
  }
}

const A = key()
const B = key()

function refused(value: unknown, pattern: RegExp): void {
  assert.throws(
    () => parsePublicKeysFile(typeof value === 'string' ? value : JSON.stringify(value)),
    (error: unknown) => error instanceof PublicKeysFileError && pattern.test(error.message),
  )
}

describe('parsePublicKeysFile', () => {
  it('reads the body of GET /v3/{project_id}/digest-keys', () => {
    const keys = parsePublicKeysFile(
      JSON.stringify({ digest_keys: [{ ...A, valid_to: 1769904000000 }, B] }),
    )
    assert.deepEqual(
      keys.map((k) => [k.fingerprint, k.valid_to]),
      [
        [A.fingerprint, 1769904000000],
        [B.fingerprint, null],
      ],
    )
  })

  it('refuses a key listed under another fingerprint', () => {
    refused(
      { digest_keys: [{ ...A, fingerprint: B.fingerprint }] },
      /fingerprint is [0-9a-f]{64}, not/,
    )
  })

  it('refuses other shapes with the first problem', () => {
    refused('nope', /^not JSON$/)
    refused({ keys: [] }, /digest_keys/)
    refused({ digest_keys: [] }, /empty/)
    refused({ digest_keys: [{ ...A, algorithm: 'MD5' }] }, /algorithm/)
    refused({ digest_keys: [{ ...A, public_key: 'junk' }] }, /not a PEM public key/)
    refused({ digest_keys: [{ ...A, valid_from: '1' }] }, /valid_from/)
  })
})
