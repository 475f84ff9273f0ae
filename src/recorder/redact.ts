/**
 * @module recorder/redact
 * Masks secret values in captured JSON before it becomes a trace's `request`/`response`. Pure.
 *
 * A key is secret when, lower-cased with `-` and `_` removed, it equals one of the default keys or
 * of the map's `redact` list (so `adminPass`, `admin_pass` and `ADMIN-PASS` are one key). Matching is
 * on whole keys, not substrings: `token_expires_at` is kept, `token` is masked. The value of a
 * secret key is replaced by `********` whatever it is (an object is masked whole), except null.
 */

/** Keys always masked (spec ims-glance-auth §2, §4.1: the ECS example masks `adminPass`). */
export const DEFAULT_REDACT_KEYS: readonly string[] = [
  'password',
  'passwd',
  'secret',
  'token',
  'access_key',
  'secret_key',
  'secret_access_key',
  'security_token',
  'authorization',
  'x-auth-token',
  'x-subject-token',
  'x-security-token',
  'adminPass',
  'user_data',
  'private_key',
  'passphrase',
  'credential',
  'credentials',
]

/** The mask that replaces a secret value. */
export const REDACTED = '********'

function canon(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, '')
}

const DEFAULTS = new Set(DEFAULT_REDACT_KEYS.map(canon))

function mask(value: unknown, secret: (key: string) => boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => mask(v, secret))
  if (typeof value !== 'object' || value === null) return value
  const out: Record<string, unknown> = {}
  for (const [key, child] of Object.entries(value)) {
    out[key] = secret(key) && child !== null ? REDACTED : mask(child, secret)
  }
  return out
}

/**
 * A copy of a JSON value with the values of secret keys (defaults plus `keys`) masked, recursively,
 * case-insensitively. The input is not modified.
 */
export function redact(value: unknown, keys: readonly string[]): unknown {
  const extra = new Set(keys.map(canon))
  return mask(value, (key) => {
    const c = canon(key)
    return DEFAULTS.has(c) || extra.has(c)
  })
}
