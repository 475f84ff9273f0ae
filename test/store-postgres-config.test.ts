/**
 * The PostgreSQL engine's config, identity and key ports beyond their contract suites (which
 * test/contract-*.test.ts run on every engine): what only many nodes can break: two stores (two pools, as two OpenCTS nodes) on one database
 * racing on the same check-then-write. Each race is repeated a bounded number of times.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, describe, it } from 'node:test'
import type { ErrorCode } from '../src/errors/index.js'
import { isOpenCtsError } from '../src/errors/index.js'
import type { Notification, Tracker } from '../src/model/index.js'
import type { SigningKeyRecord, Store } from '../src/store/index.js'
import { openStore } from '../src/store/open-store.js'
import { newTracker } from '../src/trackers/new-tracker.js'
import { engineFactory } from './contract/engines.js'
import { makeTrace } from './helpers/make-trace.js'

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0)
const ROUNDS = 8
/**
 * Rotation races: without the rotation lock, a wrong window needs another node's commit to land
 * between a rotation's read and its update, which 40 races produce most of the time.
 */
const ROTATIONS = 40

const f = engineFactory('postgres')
after(() => f.dropAll())

function hasCode(code: ErrorCode): (error: unknown) => boolean {
  return (error) => isOpenCtsError(error) && error.code === code
}

/** Two nodes on one fresh database: `fn(a, b)`, both closed afterwards. */
async function withTwoNodes(fn: (a: Store, b: Store) => Promise<void>): Promise<void> {
  const a = await f.open()
  let b: Store | undefined
  try {
    b = await openStore({ url: f.urlOf(a), poolSize: 4, nodeName: 'node-b' })
    await fn(a, b)
  } finally {
    await b?.close()
    await a.close()
  }
}

/** Of settled racers, the values of the winners and the errors of the losers. */
function outcome<T>(results: PromiseSettledResult<T>[]): { won: T[]; lost: unknown[] } {
  const won: T[] = []
  const lost: unknown[] = []
  for (const r of results) {
    if (r.status === 'fulfilled') won.push(r.value)
    else lost.push(r.reason)
  }
  return { won, lost }
}

function tracker(projectId: string, name: string, type: 'system' | 'data' = 'data'): Tracker {
  return newTracker({ id: randomUUID(), now: NOW, projectId, domainId: 'd1', type, name })
}

/** The self-audit traces of a project (service CTS) within the test window. */
async function auditTraces(store: Store, projectId: string): Promise<number> {
  const page = await store.traces.page(
    { projectId, from: NOW - 3_600_000, to: NOW + 1, category: 'system', serviceType: 'CTS' },
    null,
    100,
  )
  return page.traces.length
}

const audit = (projectId: string) =>
  makeTrace({ project_id: projectId, time: NOW - 1, service_type: 'CTS', trace_name: 'x' })

let serial = 0
function signingKey(validFrom: number): SigningKeyRecord {
  serial++
  return {
    fingerprint: `${process.pid}:${serial}`.padStart(64, '0'),
    publicKeyPem: `pem ${serial}`,
    sealedPrivateKey: `sealed ${serial}`,
    validFrom,
    validTo: null,
  }
}

describe('postgres identity and keys on two nodes', () => {
  it('one account name, inserted by both nodes at once: one wins, the other is told it exists', () =>
    withTwoNodes(async (a, b) => {
      for (let round = 0; round < ROUNDS; round++) {
        const name = `acme${round}`
        const { won, lost } = outcome(
          await Promise.allSettled(
            [a, b].map((node) =>
              node.identity.insertAccount({ id: randomUUID(), name, createdAt: NOW }),
            ),
          ),
        )
        assert.equal(won.length, 1, `round ${round}`)
        assert.ok(lost.every(hasCode('OCTS_ERR_IDENTITY_EXISTS')), String(lost[0]))
      }
      assert.equal((await b.identity.listAccounts()).length, ROUNDS)
    }))

  it('deleting a user while another node adds its access key leaves no orphan key', () =>
    withTwoNodes(async (a, b) => {
      const account = { id: randomUUID(), name: 'acme', createdAt: NOW }
      await a.identity.insertAccount(account)
      for (let round = 0; round < ROUNDS; round++) {
        const user = {
          id: randomUUID(),
          accountId: account.id,
          name: `u${round}`,
          passwordHash: null,
          enabled: true,
          createdAt: NOW,
        }
        await a.identity.insertUser(user)
        const key = {
          accessKeyId: randomUUID(),
          userId: user.id,
          sealedSecret: 's',
          status: 'active' as const,
          description: '',
          createdAt: NOW,
        }
        const [deleted, inserted] = await Promise.allSettled([
          a.identity.deleteUser(user.id),
          b.identity.insertAccessKey(key),
        ])
        assert.deepEqual(deleted, { status: 'fulfilled', value: true })
        if (inserted.status === 'rejected')
          assert.ok(
            hasCode('OCTS_ERR_IDENTITY_NOT_FOUND')(inserted.reason),
            String(inserted.reason),
          )
        assert.equal(await b.identity.getAccessKey(key.accessKeyId), undefined, `round ${round}`)
      }
    }))

  it('one KMS key version added by both nodes at once: one wins, the other gets a conflict', () =>
    withTwoNodes(async (a, b) => {
      const id = randomUUID()
      await a.keys.insertKmsKey({
        id,
        name: 'alpha',
        createdAt: NOW,
        versions: [{ version: 1, sealedMaterial: 'v1', createdAt: NOW }],
      })
      for (let version = 2; version < 2 + ROUNDS; version++) {
        const { won, lost } = outcome(
          await Promise.allSettled(
            [a, b].map((node, i) =>
              node.keys.addKmsKeyVersion(id, {
                version,
                sealedMaterial: `v${version} by ${i}`,
                createdAt: NOW + version,
              }),
            ),
          ),
        )
        assert.equal(won.length, 1)
        assert.ok(lost.every(hasCode('OCTS_ERR_CONFLICT')), String(lost[0]))
      }
      const stored = await b.keys.getKmsKey(id)
      assert.deepEqual(
        stored?.versions.map((v) => v.version),
        Array.from({ length: ROUNDS + 1 }, (_, i) => i + 1),
      )
    }))

  it('concurrent signing key rotations never leave two current keys, and chain the windows', () =>
    withTwoNodes(async (a, b) => {
      for (let round = 0; round < ROTATIONS; round++) {
        // Round 0 races on an empty table (no current key to lock); later rounds on a current key.
        const from = NOW + round * 1000
        const { lost } = outcome(
          await Promise.allSettled([
            a.keys.rotateSigningKey(signingKey(from)),
            b.keys.rotateSigningKey(signingKey(from + 1)),
          ]),
        )
        // A rotation is refused only when the other one, starting later, became current first.
        assert.ok(lost.every(hasCode('OCTS_ERR_CONFLICT')), String(lost[0]))
        assert.ok(lost.length <= 1)
      }
      const keys = await a.keys.listSigningKeys()
      assert.equal(keys.filter((k) => k.validTo === null).length, 1, 'one current key')
      assert.equal(keys.at(-1)?.validTo, null, 'the newest is the current one')
      for (let i = 0; i + 1 < keys.length; i++)
        assert.equal(
          keys[i]?.validTo,
          keys[i + 1]?.validFrom,
          `window ${i} ends where ${i + 1} starts`,
        )
      assert.ok(keys.length >= ROTATIONS)
    }))
})

describe('postgres config on two nodes', () => {
  it('registers a new project once when both nodes ensure it at once', () =>
    withTwoNodes(async (a, b) => {
      for (let round = 0; round < ROUNDS; round++) {
        const projectId = `race${round}`
        let calls = 0
        const onNew = () => {
          calls++
          return { tracker: tracker(projectId, 'system', 'system'), audit: [audit(projectId)] }
        }
        const results = await Promise.all(
          [a, b].map((node) => node.config.ensureProject(projectId, NOW, onNew)),
        )
        assert.deepEqual(
          results.filter((r) => r),
          [true],
          `round ${round}: one node registered it`,
        )
        assert.equal(calls, 1, 'onNew called once')
        assert.deepEqual(
          (await b.config.listTrackers(projectId)).map((t) => t.tracker_name),
          ['system'],
        )
        assert.equal(await auditTraces(a, projectId), 1, 'its audit trace stored once')
      }
    }))

  it('one tracker name inserted by both nodes at once: one wins, the other gets a conflict', () =>
    withTwoNodes(async (a, b) => {
      for (let round = 0; round < ROUNDS; round++) {
        const projectId = `p${round}`
        const { won, lost } = outcome(
          await Promise.allSettled(
            [a, b].map((node) =>
              node.config.insertTracker(tracker(projectId, 'dt'), [audit(projectId)]),
            ),
          ),
        )
        assert.equal(won.length, 1, `round ${round}`)
        assert.ok(lost.every(hasCode('OCTS_ERR_CONFLICT')), String(lost[0]))
        assert.equal((await a.config.listTrackers(projectId)).length, 1)
        assert.equal(await auditTraces(b, projectId), 1, 'no audit trace of the refused insert')
      }
    }))

  it('one notification name inserted by both nodes at once: one wins, the other is told it exists', () =>
    withTwoNodes(async (a, b) => {
      for (let round = 0; round < ROUNDS; round++) {
        const notification = (): Notification => ({
          notification_id: randomUUID(),
          notification_name: `n${round}`,
          operation_type: 'complete',
          operations: [],
          notify_user_list: [],
          status: 'enabled',
          topic_id: 'urn:smn:r:p1:t',
          notification_type: 'smn',
          project_id: 'p1',
          create_time: NOW,
        })
        const { won, lost } = outcome(
          await Promise.allSettled(
            [a, b].map((node) => node.config.insertNotification(notification(), [])),
          ),
        )
        assert.equal(won.length, 1, `round ${round}`)
        assert.ok(lost.every(hasCode('OCTS_ERR_NOTIFICATION_EXISTS')), String(lost[0]))
      }
      assert.equal(await b.config.countActiveNotifications(), ROUNDS)
    }))

  it('a health change racing a disable on another node never re-enables the tracker', () =>
    withTwoNodes(async (a, b) => {
      for (let round = 0; round < ROUNDS; round++) {
        const t = tracker('p1', `dt${round}`)
        await a.config.insertTracker(t, [])
        await Promise.all([
          a.config.updateTracker({ ...t, status: 'disabled' }, []),
          b.config.setTrackerHealth(t.id, { status: 'error', detail: 'noBucket' }),
        ])
        const [stored] = await b.config.listTrackers('p1', { name: t.tracker_name })
        assert.equal(stored?.status, 'disabled', `round ${round}`)
      }
    }))
})
