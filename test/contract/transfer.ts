/**
 * The TransferStore contract (src/store/ports/transfer.ts): every engine passes it. Run it with
 * `transferContract(engine, factory)`; each test works in a fresh store of the factory.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { isOpenCtsError } from '../../src/errors/index.js'
import type { DeliveredFile, Store } from '../../src/store/index.js'
import type { StoreFactory } from './engines.js'

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0)

async function withStore(
  factory: StoreFactory,
  fn: (store: Store) => Promise<Store | void>,
): Promise<void> {
  let store = await factory.open()
  try {
    store = (await fn(store)) ?? store
  } finally {
    await store.close()
  }
}

function file(trackerId: string, key: string, deliveredAt: number, bucket = 'b1'): DeliveredFile {
  return {
    trackerId,
    bucket,
    key,
    sha256: 'ab'.repeat(32),
    deliveredAt,
    traceCount: 2,
    oldestTime: deliveredAt - 5000,
    newestTime: deliveredAt - 1,
  }
}

export function transferContract(name: string, factory: StoreFactory): void {
  describe(`transfer contract: ${name}`, () => {
    it('has no state before init; init creates it once and returns the stored state', () =>
      withStore(factory, async (store) => {
        const t = store.transfer
        const id = randomUUID()
        assert.equal(await t.getTransferState(id), undefined)
        const initial = await t.initTransferState(id, 7)
        assert.deepEqual(initial, { trackerId: id, cursor: 7, pending: null, digest: null })
        await t.savePending(id, '{"v":1}')
        assert.deepEqual(
          await t.initTransferState(id, 99),
          { trackerId: id, cursor: 7, pending: '{"v":1}', digest: null },
          'init keeps an existing state and returns it',
        )
        const other = randomUUID()
        assert.deepEqual(await t.initTransferState(other, 0), {
          trackerId: other,
          cursor: 0,
          pending: null,
          digest: null,
        })
        assert.equal((await t.getTransferState(id))?.cursor, 7, 'trackers are independent')
      }))

    it('inits one state when two inits race', () =>
      withStore(factory, async (store) => {
        const id = randomUUID()
        const [a, b] = await Promise.all([
          store.transfer.initTransferState(id, 5),
          store.transfer.initTransferState(id, 6),
        ])
        assert.deepEqual(a, b)
        assert.ok(a.cursor === 5 || a.cursor === 6)
        assert.deepEqual(await store.transfer.getTransferState(id), a)
      }))

    it('saves the pending batch and the digest state, each alone, as exact text', () =>
      withStore(factory, async (store) => {
        const t = store.transfer
        const id = randomUUID()
        await t.initTransferState(id, 3)
        const pending = '{ "keys" : ["a/b.json.gz"], "ü": "\\u00fc" }'
        await t.savePending(id, pending)
        await t.saveDigestState(id, '{"v":1,"start":1}')
        assert.deepEqual(await t.getTransferState(id), {
          trackerId: id,
          cursor: 3,
          pending,
          digest: '{"v":1,"start":1}',
        })
        await t.saveDigestState(id, null)
        assert.deepEqual(await t.getTransferState(id), {
          trackerId: id,
          cursor: 3,
          pending,
          digest: null,
        })
        const unknown = randomUUID()
        await t.savePending(unknown, '{}')
        await t.saveDigestState(unknown, '{}')
        assert.equal(await t.getTransferState(unknown), undefined, 'no state is created')
      }))

    it('commits a batch: cursor moved, pending cleared, files recorded, in one call', () =>
      withStore(factory, async (store) => {
        const t = store.transfer
        const id = randomUUID()
        await t.initTransferState(id, 7)
        await t.savePending(id, '{"v":1}')
        await t.saveDigestState(id, '{"d":1}')
        const big = 2 ** 40 + 3
        await t.commitBatch(id, big, [file(id, 'k2', NOW + 1000), file(id, 'k1', NOW)])
        assert.deepEqual(await t.getTransferState(id), {
          trackerId: id,
          cursor: big,
          pending: null,
          digest: '{"d":1}',
        })
        assert.deepEqual(await t.deliveredFiles(id, 0, NOW + 5000), [
          file(id, 'k1', NOW),
          file(id, 'k2', NOW + 1000),
        ])
        await t.commitBatch(id, big + 1, [])
        assert.equal((await t.getTransferState(id))?.cursor, big + 1, 'an empty batch moves it')
        assert.equal((await t.deliveredFiles(id, 0, NOW + 5000)).length, 2)
      }))

    it('replaces a file recorded again under the same bucket and key', () =>
      withStore(factory, async (store) => {
        const t = store.transfer
        const id = randomUUID()
        await t.initTransferState(id, 0)
        await t.commitBatch(id, 1, [file(id, 'k1', NOW)])
        const again = { ...file(id, 'k1', NOW + 10), sha256: 'cd'.repeat(32), traceCount: 9 }
        await t.commitBatch(id, 2, [again, file(id, 'k1', NOW, 'b2')])
        assert.deepEqual(await t.deliveredFiles(id, 0, NOW + 5000), [
          file(id, 'k1', NOW, 'b2'),
          again,
        ])
      }))

    it('rolls a failed commit back whole: cursor, pending and files unchanged', () =>
      withStore(factory, async (store) => {
        const t = store.transfer
        const id = randomUUID()
        await t.initTransferState(id, 4)
        await t.savePending(id, '{"batch":1}')
        const broken = { ...file(id, 'k2', NOW), key: null } as unknown as DeliveredFile
        await assert.rejects(t.commitBatch(id, 9, [file(id, 'k1', NOW), broken]), (error) => {
          assert.ok(isOpenCtsError(error))
          assert.equal(error.code, 'OCTS_ERR_WRITE_FAILED')
          return true
        })
        assert.deepEqual(await t.getTransferState(id), {
          trackerId: id,
          cursor: 4,
          pending: '{"batch":1}',
          digest: null,
        })
        assert.deepEqual(await t.deliveredFiles(id, 0, NOW + 5000), [])
      }))

    it('lists the files of one tracker with from <= deliveredAt < to, by (deliveredAt, key)', () =>
      withStore(factory, async (store) => {
        const t = store.transfer
        const [a, b] = [randomUUID(), randomUUID()]
        await t.initTransferState(a, 0)
        await t.initTransferState(b, 0)
        // Byte order of keys: 'B' (0x42) before 'a' (0x61), '_' (0x5f) between them.
        await t.commitBatch(a, 5, [
          file(a, 'a', NOW),
          file(a, 'B', NOW),
          file(a, '_', NOW),
          file(a, 'z', NOW - 1),
          file(a, 'late', NOW + 1000),
        ])
        await t.commitBatch(b, 5, [file(b, 'other', NOW)])
        assert.deepEqual(
          (await t.deliveredFiles(a, NOW - 1, NOW + 1001)).map((f) => f.key),
          ['z', 'B', '_', 'a', 'late'],
        )
        assert.deepEqual(
          (await t.deliveredFiles(a, NOW, NOW + 1000)).map((f) => f.key),
          ['B', '_', 'a'],
          'from inclusive, to exclusive',
        )
        assert.deepEqual(await t.deliveredFiles(a, NOW + 1001, NOW + 9999), [])
        assert.deepEqual(
          (await t.deliveredFiles(b, 0, NOW + 9999)).map((f) => f.key),
          ['other'],
        )
      }))

    it('forgets a deleted state and its files; a later commit records nothing', () =>
      withStore(factory, async (store) => {
        const t = store.transfer
        const [id, kept] = [randomUUID(), randomUUID()]
        await t.initTransferState(id, 1)
        await t.initTransferState(kept, 1)
        await t.commitBatch(id, 2, [file(id, 'k1', NOW)])
        await t.commitBatch(kept, 2, [file(kept, 'k1', NOW)])
        await t.deleteTransferState(id)
        assert.equal(await t.getTransferState(id), undefined)
        assert.deepEqual(await t.deliveredFiles(id, 0, NOW + 5000), [])
        await t.commitBatch(id, 20, [file(id, 'k3', NOW)])
        assert.equal(await t.getTransferState(id), undefined, 'no state is created')
        assert.deepEqual(
          await t.deliveredFiles(id, 0, NOW + 5000),
          [],
          'a commit for a deleted tracker records nothing',
        )
        assert.equal((await t.getTransferState(kept))?.cursor, 2, 'other trackers are kept')
        assert.equal((await t.deliveredFiles(kept, 0, NOW + 5000)).length, 1)
        await t.deleteTransferState(randomUUID())
        assert.deepEqual(
          await t.initTransferState(id, 0),
          { trackerId: id, cursor: 0, pending: null, digest: null },
          'a new state starts afresh',
        )
      }))

    it('purges the files of one tracker delivered before a time, and counts them', () =>
      withStore(factory, async (store) => {
        const t = store.transfer
        const [a, b] = [randomUUID(), randomUUID()]
        await t.initTransferState(a, 0)
        await t.initTransferState(b, 0)
        await t.commitBatch(a, 3, [
          file(a, 'k1', NOW - 2000),
          file(a, 'k2', NOW - 1),
          file(a, 'k3', NOW),
        ])
        await t.commitBatch(b, 3, [file(b, 'k1', NOW - 2000)])
        assert.equal(await t.purgeDeliveredFiles(a, NOW), 2, 'before, not at, the time')
        assert.equal(await t.purgeDeliveredFiles(a, NOW), 0)
        assert.deepEqual(
          (await t.deliveredFiles(a, 0, NOW + 5000)).map((f) => f.key),
          ['k3'],
        )
        assert.equal((await t.deliveredFiles(b, 0, NOW + 5000)).length, 1, 'per tracker')
        assert.equal((await t.getTransferState(a))?.cursor, 3, 'the state stays')
      }))

    it(
      'keeps the state and the files across a reopen',
      {
        skip: factory.reopen === undefined ? 'this factory cannot reopen a store' : false,
      },
      () =>
        withStore(factory, async (store) => {
          const id = randomUUID()
          await store.transfer.initTransferState(id, 11)
          await store.transfer.commitBatch(id, 12, [file(id, 'k1', NOW)])
          await store.transfer.savePending(id, '{"next":13}')
          await store.transfer.saveDigestState(id, '{"chain":"x"}')
          const again = await (factory.reopen as (s: Store) => Promise<Store>)(store)
          assert.deepEqual(await again.transfer.getTransferState(id), {
            trackerId: id,
            cursor: 12,
            pending: '{"next":13}',
            digest: '{"chain":"x"}',
          })
          assert.deepEqual(await again.transfer.deliveredFiles(id, 0, NOW + 1), [
            file(id, 'k1', NOW),
          ])
          return again
        }),
    )
  })
}
