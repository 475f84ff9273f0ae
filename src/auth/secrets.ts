/**
 * @module auth/secrets
 * Random credentials and the hashing of tokens:
 * - access key ids: 20 uppercase letters and digits (the Huawei Cloud AK shape);
 * - secret keys: 40 letters and digits (~238 bits);
 * - tokens: `octs1_` + 32 random bytes in base64url. Only SHA-256(token) is stored, so a copy of the
 *   database does not hold a usable token.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto'

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
export const TOKEN_PREFIX = 'octs1_'
/** Accepted token shape (checked before any lookup). */
export const TOKEN_PATTERN = /^octs1_[A-Za-z0-9_-]{43}$/

function randomString(alphabet: string, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)]
  return out
}

export function newAccessKeyId(): string {
  return randomString(UPPER_ALNUM, 20)
}

export function newSecretKey(): string {
  return randomString(ALNUM, 40)
}

/** A 32-hex IAM id (account, project, user). */
export function newIamId(): string {
  return randomBytes(16).toString('hex')
}

export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url')
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

/** A password for the bootstrap admin when none is given: 24 letters and digits. */
export function newPassword(): string {
  return randomString(ALNUM, 24)
}
