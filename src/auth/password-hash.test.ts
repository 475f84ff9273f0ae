import assert from 'node:assert/strict'
import { it } from 'node:test'
import { isOpenCtsError } from '../errors/index.js'
import {
  DEFAULT_SCRYPT_COST,
  HASH_CONCURRENCY,
  HASH_QUEUE,
  hashPassword,
  verifyPassword,
} from './password-hash.js'

const CHEAP = { log2N: 10, r: 8, p: 1 }

it('bounds concurrent hashing: beyond the running and queued ones, refused at once with 503 OCTS.0504', async () => {
  const encoded = await hashPassword('correct horse', CHEAP)
  const extra = 3
  const results = await Promise.allSettled(
    Array.from({ length: HASH_CONCURRENCY + HASH_QUEUE + extra }, () =>
      verifyPassword('correct horse', encoded),
    ),
  )
  const refused = results.filter((r) => r.status === 'rejected')
  assert.equal(refused.length, extra)
  for (const r of refused) {
    const reason: unknown = r.reason
    assert.ok(isOpenCtsError(reason) && reason.code === 'OCTS_ERR_PUSHBACK')
    assert.equal(reason.httpStatus, 503)
    assert.equal(reason.retryAfter, 1)
  }
  for (const r of results) if (r.status === 'fulfilled') assert.equal(r.value, true)
  // The queue drained: a new check runs.
  assert.equal(await verifyPassword('wrong horse', encoded), false)
})

it('the event loop keeps turning while default-cost hashes run (thread pool, not the loop)', async () => {
  const encoded = await hashPassword('correct horse', DEFAULT_SCRYPT_COST)
  let ticks = 0
  const timer = setInterval(() => ticks++, 5)
  try {
    const checks = await Promise.all([
      verifyPassword('correct horse', encoded),
      verifyPassword('correct horse', encoded),
      verifyPassword('wrong horse', encoded),
    ])
    assert.deepEqual(checks, [true, true, false])
  } finally {
    clearInterval(timer)
  }
  // Three 128 MiB derivations take well over 100 ms; a blocked loop would not tick in between.
  assert.ok(ticks >= 10, `only ${ticks} timer ticks during the hashing`)
})
