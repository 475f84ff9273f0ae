/**
 * The one-time set-up of a store (src/first-start.ts) when several nodes start on it together:
 * the node holding the `setup` lease creates the administrator and the first signing key, the
 * others wait until it is done and create nothing; a node whose set-up never comes fails with a
 * clear error after its wait. The nodes are two service sets over one real SQLite store, each with
 * its own view of the lease (as two processes on one PostgreSQL database would have).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { loadOrCreateMasterKey } from '../src/auth/index.js'
import { loadConfig } from '../src/config/config.js'
import { firstStart, SETUP_LEASE } from '../src/first-start.js'
import { randomIds, systemClock } from '../src/platform/clock.js'
import { createServices, type Services } from '../src/services.js'
import type { Coordination, LeaseHandlers, Store } from '../src/store/index.js'
import { openStore } from '../src/store/open-store.js'
import { TEST_SCRYPT_COST } from './helpers/test-app.js'

/** Leases of several nodes: the first to name a lease holds it; the others never get it. */
class Election {
  readonly #holders = new Map<string, number>()

  node(id: number): Coordination {
    const holders = this.#holders
    return {
      hold(name: string, handlers: LeaseHandlers) {
        if (holders.has(name)) return
        holders.set(name, id)
        handlers.acquired()
      },
      held: () => [...holders].filter(([, holder]) => holder === id).map(([name]) => name),
      onRemoteCommit: () => () => undefined,
      close: () => Promise.resolve(),
    }
  }
}

/** The store as one node sees it: the shared data, its own coordination. */
function asNode(store: Store, coordination: Coordination): Store {
  return {
    traces: store.traces,
    merkle: store.merkle,
    config: store.config,
    identity: store.identity,
    keys: store.keys,
    transfer: store.transfer,
    delivery: store.delivery,
    alarms: store.alarms,
    insights: store.insights,
    storage: store.storage,
    coordination,
    health: () => store.health(),
    probeSpace: () => store.probeSpace(),
    close: () => Promise.resolve(),
  }
}

async function fixture(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'opencts-first-start-'))
  const config = loadConfig({}, { dataDir: dir })
  const store = await openStore({ url: config.store })
  t.after(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const { key: masterKey } = loadOrCreateMasterKey(config.masterKeyFile)
  const node = (coordination: Coordination): { store: Store; services: Services } => {
    const view = asNode(store, coordination)
    return {
      store: view,
      services: createServices({
        config,
        store: view,
        clock: systemClock,
        ids: randomIds,
        masterKey,
        passwordCost: TEST_SCRYPT_COST,
      }),
    }
  }
  return { config, store, node }
}

describe('first start on several nodes', () => {
  it('one node sets the store up, the others wait and create nothing', async (t) => {
    const { config, store, node } = await fixture(t)
    const election = new Election()
    const nodes = [1, 2, 3].map((id) => node(election.node(id)))
    const results = await Promise.all(
      nodes.map((n) => firstStart({ config, store: n.store, services: n.services, pollMs: 20 })),
    )
    assert.equal(results.filter((r) => r !== null).length, 1, 'one administrator is created')
    assert.notEqual(results[0], null, 'by the node holding the setup lease')
    assert.equal((await store.identity.listAccounts()).length, 1)
    assert.equal((await store.keys.listSigningKeys()).length, 1, 'one first signing key')
    assert.deepEqual(election.node(1).held(), [SETUP_LEASE])
  })

  it('a later start on a set-up store creates nothing, holder or not', async (t) => {
    const { config, store, node } = await fixture(t)
    const first = node(new Election().node(1))
    assert.notEqual(await firstStart({ config, ...first }), null)
    const election = new Election()
    election.node(9).hold(SETUP_LEASE, { acquired: () => undefined, lost: () => undefined })
    const waiting = node(election.node(2))
    assert.equal(await firstStart({ config, ...waiting, pollMs: 20 }), null)
    const holder = node(new Election().node(3))
    assert.equal(await firstStart({ config, ...holder }), null)
    assert.equal((await store.keys.listSigningKeys()).length, 1)
  })

  it('fails with OCTS_ERR_STORE_UNAVAILABLE when the holder never sets the store up', async (t) => {
    const { config, node } = await fixture(t)
    const election = new Election()
    // Another node holds the lease and never finishes.
    election.node(9).hold(SETUP_LEASE, { acquired: () => undefined, lost: () => undefined })
    const waiting = node(election.node(2))
    const started = Date.now()
    await assert.rejects(
      firstStart({ config, ...waiting, waitMs: 300, pollMs: 20 }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'OCTS_ERR_STORE_UNAVAILABLE')
        assert.match(error.message, /not set up within/)
        return true
      },
    )
    assert.ok(Date.now() - started < 5_000, 'the wait is bounded')
  })
})
