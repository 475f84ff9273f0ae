import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import type { Tracker } from '../model/index.js'
import type { Store } from '../store/index.js'
import { openStore } from '../store/open-store.js'
import { newTracker } from './new-tracker.js'
import { TagService } from './tag-service.js'
import { rejectsWith as rejects } from '../../test/helpers/service-harness.js'

const P = 'p1'
const TYPE = 'cts-tracker'

async function setup(
  t: TestContext,
): Promise<{ store: Store; tags: TagService; trackers: Tracker[] }> {
  const store = await openStore({ url: 'sqlite::memory:' })
  t.after(() => store.close())
  const trackers = ['system', 'alpha', 'beta'].map((name) =>
    newTracker({
      id: `id-${name}`,
      now: 1,
      projectId: P,
      domainId: '',
      type: name === 'system' ? 'system' : 'data',
      name,
    }),
  )
  for (const tracker of trackers) await store.config.insertTracker(tracker, [])
  return { store, tags: new TagService({ config: store.config }), trackers }
}

describe('TagService', () => {
  it('adds, overwrites, reads and deletes tags of a tracker', async (t) => {
    const { tags } = await setup(t)
    const put = await tags.create(P, TYPE, 'id-alpha', {
      tags: [
        { key: 'env', value: 'prod' },
        { key: 'team', value: 'ops' },
      ],
    })
    assert.deepEqual(put, { status: 200 })
    await tags.create(P, TYPE, 'id-alpha', { tags: [{ key: 'env', value: 'staging' }] })
    assert.deepEqual((await tags.get(P, TYPE, 'id-alpha')).body, {
      tags: [
        { key: 'env', value: 'staging' },
        { key: 'team', value: 'ops' },
      ],
    })
    await tags.delete(P, TYPE, 'id-alpha', { tags: [{ key: 'env', value: 'prod' }] })
    assert.equal(
      ((await tags.get(P, TYPE, 'id-alpha')).body as { tags: unknown[] }).tags.length,
      2,
      'value must match',
    )
    assert.deepEqual(await tags.delete(P, TYPE, 'id-alpha', { tags: [{ key: 'env' }] }), {
      status: 204,
    })
    assert.deepEqual((await tags.get(P, TYPE, 'id-alpha')).body, {
      tags: [{ key: 'team', value: 'ops' }],
    })
  })

  it('checks the resource type, the tracker and the tag rules', async (t) => {
    const { tags } = await setup(t)
    const one = (key: string, value = 'v'): unknown => ({ tags: [{ key, value }] })
    await rejects(tags.get(P, 'cts-notification', 'id-alpha'), 'OCTS.0111')
    await rejects(tags.create(P, TYPE, 'id-ghost', one('k')), 'CTS.0214')
    await rejects(tags.create(P, TYPE, 'id-alpha', 'tags'), 'CTS.0003')
    await rejects(tags.create(P, TYPE, 'id-alpha', { tags: [] }), 'OCTS.0110')
    await rejects(tags.create(P, TYPE, 'id-alpha', one('_sys_hidden')), 'OCTS.0110')
    await rejects(tags.create(P, TYPE, 'id-alpha', one('k'.repeat(129))), 'OCTS.0110')
    await rejects(tags.create(P, TYPE, 'id-alpha', one('k', 'v'.repeat(256))), 'OCTS.0110')
    await rejects(tags.create(P, TYPE, 'id-alpha', one(' lead')), 'OCTS.0110')
    await rejects(tags.create(P, TYPE, 'id-alpha', one('a*b')), 'OCTS.0110')
    await rejects(tags.create(P, TYPE, 'id-alpha', one('k', 'x<y')), 'OCTS.0110')
    await rejects(tags.create(P, TYPE, 'id-alpha', { tags: [{ key: 'k', value: 1 }] }), 'OCTS.0110')
    await rejects(
      tags.create(P, TYPE, 'id-alpha', {
        tags: [
          { key: 'k', value: 'a' },
          { key: 'k', value: 'b' },
        ],
      }),
      'OCTS.0110',
    )
    assert.equal(
      (await tags.create(P, TYPE, 'id-alpha', one('Kostenstelle ÄÖ', 'a/b:c=d+e-f@g.h_i'))).status,
      200,
    )
    assert.equal((await tags.create(P, TYPE, 'id-alpha', one('标签', ''))).status, 200)
  })

  it('allows at most 20 tags per tracker', async (t) => {
    const { tags } = await setup(t)
    const many = Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: 'v' }))
    assert.equal((await tags.create(P, TYPE, 'id-beta', { tags: many })).status, 200)
    assert.equal(
      (await tags.create(P, TYPE, 'id-beta', { tags: [{ key: 'k0', value: 'w' }] })).status,
      200,
    )
    await rejects(
      tags.create(P, TYPE, 'id-beta', { tags: [{ key: 'k20', value: 'v' }] }),
      'OCTS.0110',
    )
  })

  it('lists project tags by key with paging', async (t) => {
    const { tags } = await setup(t)
    await tags.create(P, TYPE, 'id-alpha', {
      tags: [
        { key: 'env', value: 'prod' },
        { key: 'a', value: '1' },
      ],
    })
    await tags.create(P, TYPE, 'id-beta', {
      tags: [
        { key: 'env', value: 'dev' },
        { key: 'z', value: '2' },
      ],
    })
    assert.deepEqual((await tags.list(P, TYPE, {})).body, {
      tags: [
        { key: 'a', values: ['1'] },
        { key: 'env', values: ['dev', 'prod'] },
        { key: 'z', values: ['2'] },
      ],
      page_info: {},
    })
    const first = (await tags.list(P, TYPE, { limit: '2' })).body as {
      page_info: { next_marker?: string }
    }
    assert.equal(first.page_info.next_marker, 'env')
    assert.deepEqual((await tags.list(P, TYPE, { limit: '2', marker: 'env' })).body, {
      tags: [{ key: 'z', values: ['2'] }],
      page_info: {},
    })
    await rejects(tags.list(P, TYPE, { limit: '0' }), 'CTS.0300')
  })

  it('filters trackers by tags and name', async (t) => {
    const { tags } = await setup(t)
    await tags.create(P, TYPE, 'id-alpha', {
      tags: [
        { key: 'env', value: 'prod' },
        { key: 'team', value: 'ops' },
      ],
    })
    await tags.create(P, TYPE, 'id-beta', { tags: [{ key: 'env', value: 'dev' }] })
    const ids = async (input: unknown): Promise<string[]> => {
      const result = (await tags.filter(P, TYPE, input)).body as {
        resources: { resource_id: string }[]
        total_count: number
      }
      assert.equal(result.total_count >= result.resources.length, true)
      return result.resources.map((r) => r.resource_id)
    }
    assert.deepEqual(await ids({}), ['id-alpha', 'id-beta', 'id-system'])
    assert.deepEqual(await ids({ tags: [{ key: 'env', values: [] }] }), ['id-alpha', 'id-beta'])
    assert.deepEqual(await ids({ tags: [{ key: 'env', values: ['dev', 'test'] }] }), ['id-beta'])
    assert.deepEqual(
      await ids({
        tags: [
          { key: 'env', values: [] },
          { key: 'team', values: ['ops'] },
        ],
      }),
      ['id-alpha'],
    )
    assert.deepEqual(await ids({ matches: [{ key: 'resource_name', value: 'ALP' }] }), ['id-alpha'])
    assert.deepEqual(await ids({ matches: [{ key: 'resource_name', value: '' }] }), [])
    assert.deepEqual(await ids({ limit: 1, offset: 1 }), ['id-beta'])
    const page = (await tags.filter(P, TYPE, { limit: 1 })).body as {
      total_count: number
      resources: { tags: unknown[]; resource_name: string }[]
    }
    assert.equal(page.total_count, 3)
    assert.equal(page.resources[0]?.resource_name, 'alpha')
    assert.deepEqual(page.resources[0]?.tags, [
      { key: 'env', value: 'prod' },
      { key: 'team', value: 'ops' },
    ])
    await rejects(
      tags.filter(P, TYPE, { matches: [{ key: 'resource_id', value: 'x' }] }),
      'OCTS.0110',
    )
    await rejects(tags.filter(P, TYPE, { limit: 0 }), 'OCTS.0110')
  })
})
