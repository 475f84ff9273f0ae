import assert from 'node:assert/strict'
import { it } from 'node:test'
import { REDACTED, redact } from './index.js'

it('masks default and extra keys, nested and case-insensitively, without touching the input', () => {
  const input = {
    name: 'vm',
    AdminPass: 'p@ss',
    auth: { identity: { password: { user: { name: 'u', password: 'x' } } } },
    list: [{ Secret_Key: 'k', keep: 1 }, 'plain'],
    'X-Auth-Token': 'tok',
    token_expires_at: '2026',
    cmk_id: 'kms-1',
    access_key: null,
  }
  const out = redact(input, ['CMK-ID']) as any
  assert.equal(out.name, 'vm')
  assert.equal(out.AdminPass, REDACTED)
  assert.equal(out.auth.identity.password, REDACTED)
  assert.equal(out.list[0].Secret_Key, REDACTED)
  assert.equal(out.list[0].keep, 1)
  assert.equal(out.list[1], 'plain')
  assert.equal(out['X-Auth-Token'], REDACTED)
  assert.equal(out.token_expires_at, '2026', 'whole keys only, not substrings')
  assert.equal(out.cmk_id, REDACTED, 'extra key, - and _ equivalent')
  assert.equal(out.access_key, null)
  assert.equal(input.AdminPass, 'p@ss')
  assert.equal(redact('text', []), 'text')
})
