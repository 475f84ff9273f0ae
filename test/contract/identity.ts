/**
 * The contract of the identity port (`IdentityStore`): every engine passes it; the engine-matrix
 * runner calls `identityStoreContract(engine, factory)` with each factory of `engines.ts`.
 *
 * Names are lowercase ASCII so that the expected order is the same under every collation.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import type {
  AccessKey,
  Account,
  PolicyGrant,
  Project,
  TokenRecord,
  User,
} from '../../src/auth/identity.js'
import type { ErrorCode } from '../../src/errors/index.js'
import { isOpenCtsError } from '../../src/errors/index.js'
import type { IdentityStore, Store } from '../../src/store/index.js'
import type { StoreFactory } from './engines.js'

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0)

const iamId = (): string => randomBytes(16).toString('hex')
const accessKeyId = (): string => randomBytes(10).toString('hex').toUpperCase()
const tokenHash = (): string => createHash('sha256').update(randomBytes(32)).digest('hex')

const account = (name: string, id = iamId()): Account => ({ id, name, createdAt: NOW })

const project = (accountId: string, name: string, id = iamId()): Project => ({
  id,
  accountId,
  name,
  createdAt: NOW,
})

function user(accountId: string, name: string, extra: Partial<User> = {}): User {
  return {
    id: iamId(),
    accountId,
    name,
    passwordHash: `scrypt$${name}`,
    enabled: true,
    createdAt: NOW,
    ...extra,
  }
}

function accessKey(userId: string, extra: Partial<AccessKey> = {}): AccessKey {
  return {
    accessKeyId: accessKeyId(),
    userId,
    sealedSecret: `sealed:${randomBytes(8).toString('hex')}`,
    status: 'active',
    description: 'ci',
    createdAt: NOW,
    ...extra,
  }
}

function token(userId: string, projectId: string, expiresAt = NOW + 3_600_000): TokenRecord {
  return { tokenHash: tokenHash(), userId, projectId, issuedAt: NOW, expiresAt }
}

/** Code-unit order, the same as every collation for the lowercase ASCII and hex used here. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function hasCode(code: ErrorCode): (error: unknown) => boolean {
  return (error) => isOpenCtsError(error) && error.code === code
}

const exists = hasCode('OCTS_ERR_IDENTITY_EXISTS')
const notFound = hasCode('OCTS_ERR_IDENTITY_NOT_FOUND')

async function withIdentity(
  factory: StoreFactory,
  fn: (identity: IdentityStore) => Promise<void>,
): Promise<void> {
  const store = await factory.open()
  try {
    await fn(store.identity)
  } finally {
    await store.close()
  }
}

/** An account with one project and one user, the usual fixture. */
async function seed(
  identity: IdentityStore,
): Promise<{ account: Account; project: Project; user: User }> {
  const a = account('acme')
  const p = project(a.id, 'prod')
  const u = user(a.id, 'alice')
  await identity.insertAccount(a)
  await identity.insertProject(p)
  await identity.insertUser(u)
  return { account: a, project: p, user: u }
}

export function identityStoreContract(name: string, factory: StoreFactory): void {
  describe(`identity store contract: ${name}`, () => {
    it('is empty until the first account is stored', () =>
      withIdentity(factory, async (identity) => {
        assert.equal(await identity.isEmpty(), true)
        await identity.insertAccount(account('acme'))
        assert.equal(await identity.isEmpty(), false)
      }))

    it('stores accounts, gets them by id and name, lists them by name', () =>
      withIdentity(factory, async (identity) => {
        const accounts = [account('zeta'), account('acme'), account('beta')]
        for (const a of accounts) await identity.insertAccount(a)
        const [zeta] = accounts
        assert.ok(zeta)
        assert.deepEqual(await identity.getAccount(zeta.id), zeta)
        assert.deepEqual(await identity.findAccount('zeta'), zeta)
        assert.equal(await identity.getAccount(iamId()), undefined)
        assert.equal(await identity.findAccount('nobody'), undefined)
        assert.deepEqual(
          await identity.listAccounts(),
          [...accounts].sort((x, y) => compare(x.name, y.name)),
        )
      }))

    it('refuses a second account with the same name or id', () =>
      withIdentity(factory, async (identity) => {
        const a = account('acme')
        await identity.insertAccount(a)
        await assert.rejects(identity.insertAccount(account('acme')), exists, 'same name')
        await assert.rejects(identity.insertAccount(account('other', a.id)), exists, 'same id')
        assert.deepEqual(await identity.listAccounts(), [a], 'nothing stored by a refused insert')
      }))

    it('stores projects, gets them by id and (account, name), lists them sorted', () =>
      withIdentity(factory, async (identity) => {
        const a = account('acme')
        const b = account('beta')
        await identity.insertAccount(a)
        await identity.insertAccount(b)
        const projects = [project(a.id, 'test'), project(b.id, 'prod'), project(a.id, 'dev')]
        for (const p of projects) await identity.insertProject(p)
        const [test] = projects
        assert.ok(test)
        assert.deepEqual(await identity.getProject(test.id), test)
        assert.deepEqual(await identity.findProject(a.id, 'test'), test)
        assert.equal(await identity.findProject(b.id, 'test'), undefined, 'other account')
        assert.equal(await identity.getProject(iamId()), undefined)
        const sorted = [...projects].sort(
          (x, y) => compare(x.accountId, y.accountId) || compare(x.name, y.name),
        )
        assert.deepEqual(await identity.listProjects(), sorted, 'every project')
        assert.deepEqual(
          await identity.listProjects(a.id),
          sorted.filter((p) => p.accountId === a.id),
        )
        assert.deepEqual(await identity.listProjects(iamId()), [])
      }))

    it('keeps project names unique per account, and ids unique', () =>
      withIdentity(factory, async (identity) => {
        const a = account('acme')
        const b = account('beta')
        await identity.insertAccount(a)
        await identity.insertAccount(b)
        const first = project(a.id, 'prod')
        await identity.insertProject(first)
        await identity.insertProject(project(b.id, 'prod'))
        await assert.rejects(identity.insertProject(project(a.id, 'prod')), exists, 'same name')
        await assert.rejects(identity.insertProject(project(b.id, 'dev', first.id)), exists)
        assert.equal((await identity.listProjects()).length, 2)
      }))

    it('stores users, gets them by id and (account, name), lists them by name', () =>
      withIdentity(factory, async (identity) => {
        const a = account('acme')
        const b = account('beta')
        await identity.insertAccount(a)
        await identity.insertAccount(b)
        const users = [
          user(a.id, 'carol', { passwordHash: null }),
          user(a.id, 'alice', { enabled: false }),
          user(a.id, 'bob'),
          user(b.id, 'dave'),
        ]
        for (const u of users) await identity.insertUser(u)
        const [carol, alice] = users
        assert.ok(carol && alice)
        assert.deepEqual(await identity.getUser(carol.id), carol, 'a null password hash')
        assert.deepEqual(await identity.findUser(a.id, 'alice'), alice, 'a disabled user')
        assert.equal(await identity.findUser(b.id, 'alice'), undefined, 'other account')
        assert.equal(await identity.getUser(iamId()), undefined)
        assert.deepEqual(
          (await identity.listUsers(a.id)).map((u) => u.name),
          ['alice', 'bob', 'carol'],
        )
        assert.deepEqual(await identity.listUsers(b.id), [users[3]])
        assert.deepEqual(await identity.listUsers(iamId()), [])
      }))

    it('keeps user names unique per account, and ids unique', () =>
      withIdentity(factory, async (identity) => {
        const a = account('acme')
        const b = account('beta')
        await identity.insertAccount(a)
        await identity.insertAccount(b)
        const first = user(a.id, 'alice')
        await identity.insertUser(first)
        await identity.insertUser(user(b.id, 'alice'))
        await assert.rejects(identity.insertUser(user(a.id, 'alice')), exists, 'same name')
        await assert.rejects(identity.insertUser({ ...user(b.id, 'bob'), id: first.id }), exists)
        assert.equal((await identity.listUsers(a.id)).length, 1)
        assert.equal((await identity.listUsers(b.id)).length, 1)
      }))

    it('changes a password and the enabled flag, and throws on a missing user', () =>
      withIdentity(factory, async (identity) => {
        const { user: u } = await seed(identity)
        await identity.setPassword(u.id, 'scrypt$new')
        assert.equal((await identity.getUser(u.id))?.passwordHash, 'scrypt$new')
        await identity.setPassword(u.id, null)
        assert.equal((await identity.getUser(u.id))?.passwordHash, null)
        await identity.setUserEnabled(u.id, false)
        assert.equal((await identity.getUser(u.id))?.enabled, false)
        await identity.setUserEnabled(u.id, false)
        assert.equal((await identity.getUser(u.id))?.enabled, false, 'setting it again is fine')
        await identity.setUserEnabled(u.id, true)
        assert.deepEqual(await identity.getUser(u.id), { ...u, passwordHash: null })
        await assert.rejects(identity.setPassword(iamId(), 'scrypt$x'), notFound)
        await assert.rejects(identity.setUserEnabled(iamId(), true), notFound)
      }))

    it('grants idempotently, tells account-wide from project grants, sorts and revokes', () =>
      withIdentity(factory, async (identity) => {
        const { account: a, project: p, user: u } = await seed(identity)
        const other = user(a.id, 'bob')
        await identity.insertUser(other)
        const wide: PolicyGrant = { userId: u.id, policyName: 'cts_reader', projectId: null }
        const inProject: PolicyGrant = { ...wide, projectId: p.id }
        const admin: PolicyGrant = { userId: u.id, policyName: 'cts_admin', projectId: p.id }
        await identity.grant(inProject)
        await identity.grant(wide)
        await identity.grant(admin)
        await identity.grant(wide)
        await identity.grant({ ...inProject })
        assert.deepEqual(
          await identity.grantsOf(u.id),
          [admin, wide, inProject],
          'by policy name, account-wide first; a repeated grant is stored once',
        )
        assert.deepEqual(await identity.grantsOf(other.id), [])
        assert.equal(await identity.revoke(wide), true)
        assert.equal(await identity.revoke(wide), false, 'already revoked')
        assert.equal(
          await identity.revoke({ ...admin, projectId: null }),
          false,
          'an account-wide revoke does not remove a project grant',
        )
        assert.deepEqual(await identity.grantsOf(u.id), [admin, inProject])
      }))

    it('stores access keys, lists them by creation time then id, changes status, deletes', () =>
      withIdentity(factory, async (identity) => {
        const { account: a, user: u } = await seed(identity)
        const other = user(a.id, 'bob')
        await identity.insertUser(other)
        const late = accessKey(u.id, { createdAt: NOW + 10, description: '' })
        const early = [accessKey(u.id), accessKey(u.id)]
        await identity.insertAccessKey(late)
        for (const k of early) await identity.insertAccessKey(k)
        const theirs = accessKey(other.id)
        await identity.insertAccessKey(theirs)
        assert.deepEqual(await identity.getAccessKey(late.accessKeyId), late)
        assert.equal(await identity.getAccessKey(accessKeyId()), undefined)
        assert.deepEqual(await identity.listAccessKeys(u.id), [
          ...early.sort((x, y) => compare(x.accessKeyId, y.accessKeyId)),
          late,
        ])
        assert.deepEqual(await identity.listAccessKeys(other.id), [theirs])

        await identity.setAccessKeyStatus(late.accessKeyId, 'inactive')
        assert.deepEqual(await identity.getAccessKey(late.accessKeyId), {
          ...late,
          status: 'inactive',
        })
        await identity.setAccessKeyStatus(late.accessKeyId, 'active')
        assert.equal((await identity.getAccessKey(late.accessKeyId))?.status, 'active')
        await assert.rejects(identity.setAccessKeyStatus(accessKeyId(), 'inactive'), notFound)

        assert.equal(await identity.deleteAccessKey(late.accessKeyId), true)
        assert.equal(await identity.deleteAccessKey(late.accessKeyId), false)
        assert.equal(await identity.getAccessKey(late.accessKeyId), undefined)
        assert.equal((await identity.listAccessKeys(u.id)).length, 2)
      }))

    it('refuses a second access key with the same id', () =>
      withIdentity(factory, async (identity) => {
        const { account: a, user: u } = await seed(identity)
        const other = user(a.id, 'bob')
        await identity.insertUser(other)
        const key = accessKey(u.id)
        await identity.insertAccessKey(key)
        await assert.rejects(
          identity.insertAccessKey(accessKey(other.id, { accessKeyId: key.accessKeyId })),
          exists,
        )
        assert.deepEqual(await identity.getAccessKey(key.accessKeyId), key)
        assert.deepEqual(await identity.listAccessKeys(other.id), [])
      }))

    it('stores, revokes and purges tokens; a token expiring exactly now is purged', () =>
      withIdentity(factory, async (identity) => {
        const { account: a, project: p, user: u } = await seed(identity)
        const other = user(a.id, 'bob')
        await identity.insertUser(other)
        const t = token(u.id, p.id)
        await identity.insertToken(t)
        assert.deepEqual(await identity.getToken(t.tokenHash), t)
        assert.equal(await identity.getToken(tokenHash()), undefined)
        assert.equal(await identity.deleteToken(t.tokenHash), true)
        assert.equal(await identity.deleteToken(t.tokenHash), false)
        assert.equal(await identity.getToken(t.tokenHash), undefined)

        const mine = [token(u.id, p.id), token(u.id, p.id)]
        const theirs = token(other.id, p.id)
        for (const x of [...mine, theirs]) await identity.insertToken(x)
        assert.equal(await identity.deleteTokensOf(u.id), 2)
        assert.equal(await identity.deleteTokensOf(u.id), 0)
        assert.deepEqual(await identity.getToken(theirs.tokenHash), theirs)

        const expired = token(u.id, p.id, NOW - 1)
        const atNow = token(u.id, p.id, NOW)
        const valid = token(u.id, p.id, NOW + 1)
        for (const x of [expired, atNow, valid]) await identity.insertToken(x)
        assert.equal(await identity.purgeExpiredTokens(NOW), 2)
        assert.equal(await identity.getToken(expired.tokenHash), undefined)
        assert.equal(await identity.getToken(atNow.tokenHash), undefined, 'expiresAt == now')
        assert.deepEqual(await identity.getToken(valid.tokenHash), valid)
        assert.equal(await identity.purgeExpiredTokens(NOW), 0)
      }))

    it('deletes a user with its grants, access keys and tokens, and leaves other users alone', () =>
      withIdentity(factory, async (identity) => {
        const { account: a, project: p, user: u } = await seed(identity)
        const other = user(a.id, 'bob')
        await identity.insertUser(other)
        const keys = new Map<string, AccessKey>()
        const tokens = new Map<string, TokenRecord>()
        for (const id of [u.id, other.id]) {
          await identity.grant({ userId: id, policyName: 'cts_reader', projectId: null })
          await identity.grant({ userId: id, policyName: 'cts_admin', projectId: p.id })
          const k = accessKey(id)
          const t = token(id, p.id)
          await identity.insertAccessKey(k)
          await identity.insertToken(t)
          keys.set(id, k)
          tokens.set(id, t)
        }
        assert.equal(await identity.deleteUser(u.id), true)
        assert.equal(await identity.deleteUser(u.id), false, 'already deleted')
        assert.equal(await identity.getUser(u.id), undefined)
        assert.deepEqual(await identity.grantsOf(u.id), [])
        assert.deepEqual(await identity.listAccessKeys(u.id), [])
        assert.equal(await identity.getAccessKey(keys.get(u.id)?.accessKeyId ?? ''), undefined)
        assert.equal(await identity.getToken(tokens.get(u.id)?.tokenHash ?? ''), undefined)

        assert.deepEqual(await identity.getUser(other.id), other)
        assert.equal((await identity.grantsOf(other.id)).length, 2)
        assert.deepEqual(await identity.listAccessKeys(other.id), [keys.get(other.id)])
        assert.deepEqual(
          await identity.getToken(tokens.get(other.id)?.tokenHash ?? ''),
          tokens.get(other.id),
        )
        assert.equal(await identity.deleteUser(iamId()), false)
      }))

    it('refuses a project or user of an unknown account, and a grant of an unknown user', () =>
      withIdentity(factory, async (identity) => {
        const accountId = 'b'.repeat(32)
        await assert.rejects(
          identity.insertProject({ id: 'c'.repeat(32), accountId, name: 'p', createdAt: 1 }),
          notFound,
        )
        await assert.rejects(
          identity.insertUser({
            id: 'd'.repeat(32),
            accountId,
            name: 'u',
            passwordHash: null,
            enabled: true,
            createdAt: 1,
          }),
          notFound,
        )
        await assert.rejects(
          identity.grant({ userId: 'd'.repeat(32), policyName: 'cts_reader', projectId: null }),
          notFound,
        )
      }))

    if (factory.reopen !== undefined) {
      const reopen = factory.reopen.bind(factory)
      it('keeps every identity record across a restart', async () => {
        let store: Store = await factory.open()
        try {
          const { account: a, project: p, user: u } = await seed(store.identity)
          const g: PolicyGrant = { userId: u.id, policyName: 'cts_reader', projectId: null }
          const k = accessKey(u.id)
          const t = token(u.id, p.id)
          await store.identity.grant(g)
          await store.identity.insertAccessKey(k)
          await store.identity.insertToken(t)
          store = await reopen(store)
          assert.equal(await store.identity.isEmpty(), false)
          assert.deepEqual(await store.identity.listAccounts(), [a])
          assert.deepEqual(await store.identity.listProjects(a.id), [p])
          assert.deepEqual(await store.identity.listUsers(a.id), [u])
          assert.deepEqual(await store.identity.grantsOf(u.id), [g])
          assert.deepEqual(await store.identity.listAccessKeys(u.id), [k])
          assert.deepEqual(await store.identity.getToken(t.tokenHash), t)
        } finally {
          await store.close()
        }
      })
    }
  })
}
