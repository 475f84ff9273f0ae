/**
 * @module transfer/verify/public-keys-file
 * Reads the public keys file of `opencts verify --public-keys FILE`: the body of
 * `GET /v3/{project_id}/digest-keys`, which `opencts keys public` also prints:
 *   {"digest_keys":[{"fingerprint","algorithm":"SHA256withRSA","public_key":"<PEM SPKI>",
 *                    "valid_from":ms,"valid_to":ms|null}, ...]}
 * Each key's fingerprint is recomputed from its PEM, so a file whose keys were swapped under their
 * fingerprints is refused rather than trusted. Pure (`node:crypto` only).
 */
import { publicKeyFingerprint } from '../../integrity/digest.js'
import type { DigestKeyView } from '../signing-keys.js'

/** Why the public keys file cannot be used. */
export class PublicKeysFileError extends Error {
  override readonly name = 'PublicKeysFileError'
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function parseKey(value: unknown, where: string): DigestKeyView {
  if (!isRecord(value)) throw new PublicKeysFileError(`${where} is not an object`)
  const { fingerprint, algorithm, public_key: pem, valid_from: from, valid_to: to } = value
  if (typeof fingerprint !== 'string' || !/^[0-9a-f]{64}$/.test(fingerprint))
    throw new PublicKeysFileError(`${where}.fingerprint must be 64 lowercase hex characters`)
  if (algorithm !== 'SHA256withRSA')
    throw new PublicKeysFileError(
      `${where}.algorithm is ${JSON.stringify(algorithm)}, want "SHA256withRSA"`,
    )
  if (typeof pem !== 'string') throw new PublicKeysFileError(`${where}.public_key must be a string`)
  if (typeof from !== 'number' || !Number.isSafeInteger(from))
    throw new PublicKeysFileError(`${where}.valid_from must be epoch milliseconds`)
  if (to !== null && (typeof to !== 'number' || !Number.isSafeInteger(to)))
    throw new PublicKeysFileError(`${where}.valid_to must be epoch milliseconds or null`)
  let actual: string
  try {
    actual = publicKeyFingerprint(pem)
  } catch {
    throw new PublicKeysFileError(`${where}.public_key is not a PEM public key`)
  }
  if (actual !== fingerprint)
    throw new PublicKeysFileError(
      `${where}: the public key's fingerprint is ${actual}, not ${fingerprint}`,
    )
  return { fingerprint, algorithm, public_key: pem, valid_from: from, valid_to: to }
}

/** Parses and checks a public keys file. Throws PublicKeysFileError naming the first problem. */
export function parsePublicKeysFile(text: string): DigestKeyView[] {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new PublicKeysFileError('not JSON')
  }
  if (!isRecord(value) || !Array.isArray(value.digest_keys))
    throw new PublicKeysFileError('want an object {"digest_keys": [...]}')
  if (value.digest_keys.length === 0) throw new PublicKeysFileError('digest_keys is empty')
  return (value.digest_keys as unknown[]).map((key, i) => parseKey(key, `digest_keys[${i}]`))
}
