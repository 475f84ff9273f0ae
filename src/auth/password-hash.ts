/**
 * @module auth/password-hash
 * Password storage with scrypt (RFC 7914). The encoded form carries its own parameters, so the cost
 * can be raised later without breaking stored hashes:
 * `scrypt$<log2 N>$<r>$<p>$<salt, base64url>$<64-byte key, base64url>`.
 * The default cost is OWASP's minimum for scrypt (N=2^17, r=8, p=1: 128 MiB; measured ~0.45 s per
 * hash on the 2-core reference machine, docs/auth.md). Hashing runs on libuv's thread pool, never
 * on the event loop, and at most HASH_CONCURRENCY derivations run at once in the process: each holds
 * 128 MiB and a pool thread, and the pool (4 threads by default) also serves file I/O, zlib and DNS,
 * which must keep flowing through a burst of sign-ins. Up to HASH_QUEUE more wait their turn; beyond
 * that a derivation is refused at once with OCTS_ERR_PUSHBACK (503, Retry-After 1).
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import { OpenCtsError } from '../errors/index.js'

export interface ScryptCost {
  /** log2 of the CPU/memory cost N. */
  readonly log2N: number
  readonly r: number
  readonly p: number
}

export const DEFAULT_SCRYPT_COST: ScryptCost = { log2N: 17, r: 8, p: 1 }

const KEY_BYTES = 64
const SALT_BYTES = 16
export const MIN_PASSWORD_LENGTH = 8
export const MAX_PASSWORD_LENGTH = 128

/** Null when the password is acceptable, else the reason. */
export function passwordProblem(password: string): string | null {
  const length = [...password].length
  if (length < MIN_PASSWORD_LENGTH)
    return `a password needs at least ${MIN_PASSWORD_LENGTH} characters`
  if (length > MAX_PASSWORD_LENGTH)
    return `a password has at most ${MAX_PASSWORD_LENGTH} characters`
  return null
}

/** Derivations running at once, process-wide. */
export const HASH_CONCURRENCY = 2
/** Derivations waiting for a slot before new ones are refused. */
export const HASH_QUEUE = 32

/** A counting semaphore with a bounded queue: slots are handed from a finishing run to the next. */
class HashGate {
  #running = 0
  readonly #waiting: (() => void)[] = []

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#running < HASH_CONCURRENCY) this.#running++
    else if (this.#waiting.length < HASH_QUEUE)
      await new Promise<void>((resolve) => this.#waiting.push(resolve))
    else
      throw new OpenCtsError('OCTS_ERR_PUSHBACK', {
        message: 'Too many password checks at once; retry shortly.',
        retryAfter: 1,
      })
    try {
      return await fn()
    } finally {
      const next = this.#waiting.shift()
      if (next === undefined) this.#running--
      else next()
    }
  }
}

const gate = new HashGate()

function derive(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  return gate.run(() => scryptKey(password, salt, cost))
}

function scryptKey(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  const N = 2 ** cost.log2N
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFC'),
      salt,
      KEY_BYTES,
      { N, r: cost.r, p: cost.p, maxmem: 256 * N * cost.r + 1024 * 1024 },
      (error, key) => (error === null ? resolve(key) : reject(error)),
    )
  })
}

/** Hashes `password` with a new salt. Throws OCTS_ERR_PUSHBACK when HASH_QUEUE is full. */
export async function hashPassword(
  password: string,
  cost: ScryptCost = DEFAULT_SCRYPT_COST,
): Promise<string> {
  const salt = randomBytes(SALT_BYTES)
  const key = await derive(password, salt, cost)
  return [
    'scrypt',
    cost.log2N,
    cost.r,
    cost.p,
    salt.toString('base64url'),
    key.toString('base64url'),
  ].join('$')
}

function parse(encoded: string): { cost: ScryptCost; salt: Buffer; key: Buffer } | undefined {
  const parts = encoded.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined
  const [log2N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number]
  const ok = (n: number, max: number) => Number.isInteger(n) && n >= 1 && n <= max
  if (!ok(log2N, 22) || !ok(r, 32) || !ok(p, 16)) return undefined
  const salt = Buffer.from(parts[4] ?? '', 'base64url')
  const key = Buffer.from(parts[5] ?? '', 'base64url')
  if (salt.length < 8 || key.length !== KEY_BYTES) return undefined
  return { cost: { log2N, r, p }, salt, key }
}

/**
 * True when `password` matches `encoded`; false for a malformed hash. Constant-time comparison.
 * Throws OCTS_ERR_PUSHBACK when HASH_QUEUE is full.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parse(encoded)
  if (parsed === undefined) return false
  const key = await derive(password, parsed.salt, parsed.cost)
  return timingSafeEqual(key, parsed.key)
}
