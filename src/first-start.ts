/**
 * @module first-start
 * The one-time set-up of a store, run by the server at start: the first administrator (when the
 * store holds no account) and the first digest signing key (so one exists before any digest period
 * ends). Several nodes may start together on one empty database: the set-up runs under the `setup`
 * lease of `store.coordination`, so exactly one node does it, and the others wait (bounded) until
 * it is done. Every node then checks that its master key opens the stored secrets (nodes share
 * one master key). With one node the lease is held at once and the set-up runs right away.
 *
 * The set-up is idempotent (an administrator is made only in an empty store, a key only when there
 * is none), so a node that takes the lease over after its holder died simply re-checks it.
 */
import { bootstrapAdmin, type AdminCredentials } from './auth/index.js'
import type { OpenCtsConfig } from './config/config.js'
import { OpenCtsError } from './errors/index.js'
import type { Services } from './services.js'
import type { Store } from './store/index.js'

/** The lease under which one node sets the store up. */
export const SETUP_LEASE = 'setup'

export interface FirstStartDeps {
  readonly config: OpenCtsConfig
  readonly store: Store
  readonly services: Pick<Services, 'identity' | 'auth' | 'signingKeys'>
  /** How long a node waits for another node's set-up, ms. Default 60 000. */
  readonly waitMs?: number
  /** How often it looks whether the set-up is done, ms. Default 100. */
  readonly pollMs?: number
  /** Failures of a set-up re-run after a lease take-over, once started (logged by the server). */
  readonly onError?: (error: unknown) => void
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Whether another node finished the set-up: an account and a signing key exist. */
async function isSetUp(store: Store): Promise<boolean> {
  if (await store.identity.isEmpty()) return false
  return (await store.keys.listSigningKeys()).length > 0
}

/**
 * Sets the store up or waits for the node that does (see the module comment). Resolves with the
 * administrator this node created (first start only, secrets included), else null. Throws what the
 * set-up throws, OCTS_ERR_STORE_UNAVAILABLE when another node's set-up is not done within `waitMs`,
 * and an Error when the master key does not open the stored secrets.
 */
export async function firstStart(deps: FirstStartDeps): Promise<AdminCredentials | null> {
  const { config, store, services } = deps
  const waitMs = deps.waitMs ?? 60_000
  const pollMs = deps.pollMs ?? 100
  const setUp = async (): Promise<AdminCredentials | null> => {
    const admin = await bootstrapAdmin(
      store.identity,
      services.identity,
      config.admin,
      config.region,
    )
    await services.signingKeys.ensureCurrent()
    return admin
  }
  let started = false
  let own: Promise<AdminCredentials | null> | undefined
  store.coordination.hold(SETUP_LEASE, {
    acquired: () => {
      const run = setUp()
      // Handled here too, so that a failure while this node polls is not an unhandled rejection.
      run.catch((error: unknown) => {
        if (started) deps.onError?.(error)
      })
      if (!started && own === undefined) own = run
    },
    lost: () => undefined,
  })
  const mine = (): Promise<AdminCredentials | null> | undefined => own
  try {
    const deadline = Date.now() + waitMs
    for (let round = 0; round <= waitMs / pollMs + 1; round++) {
      const run = mine()
      if (run !== undefined) return await checked(run)
      if (await isSetUp(store)) return await checked(mine() ?? Promise.resolve(null))
      if (Date.now() >= deadline) break
      await sleep(pollMs)
    }
    throw new OpenCtsError('OCTS_ERR_STORE_UNAVAILABLE', {
      message: `the store was not set up within ${Math.round(waitMs / 1000)} s by the node holding its "${SETUP_LEASE}" lease (is another node stuck starting?)`,
    })
  } finally {
    started = true
  }

  /** The set-up's result once this node's master key is known to open the stored secrets. */
  async function checked(run: Promise<AdminCredentials | null>): Promise<AdminCredentials | null> {
    const admin = await run
    await services.auth.checkMasterKey(
      config.masterKey === '' ? config.masterKeyFile : 'OPENCTS_MASTER_KEY',
    )
    return admin
  }
}
