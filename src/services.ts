/**
 * @module services
 * Wires the capability modules together over one store. Used by the composition roots
 * (`server.ts`, tests); the HTTP layer receives the result and never constructs services itself.
 */
import {
  Authenticator,
  FailureThrottle,
  IdentityAdmin,
  type MasterKey,
  type ScryptCost,
} from './auth/index.js'
import type { OpenCtsConfig } from './config/config.js'
import { Ingestor, Publisher, SelfAudit } from './ingest/index.js'
import type { Clock, IdSource } from './platform/clock.js'
import { TraceQuery } from './query/index.js'
import type { Store } from './store/index.js'
import { NotificationService } from './notifications/index.js'
import { TagService, TrackerService } from './trackers/index.js'
import { ProjectRegistry } from './trackers/project-registry.js'

export interface Services {
  readonly config: OpenCtsConfig
  readonly store: Store
  readonly clock: Clock
  readonly ids: IdSource
  readonly publisher: Publisher
  readonly audit: SelfAudit
  readonly ingestor: Ingestor
  readonly projects: ProjectRegistry
  readonly traceQuery: TraceQuery
  readonly trackers: TrackerService
  readonly notifications: NotificationService
  readonly tags: TagService
  readonly identity: IdentityAdmin
  readonly auth: Authenticator
}

export interface ServiceDeps {
  readonly config: OpenCtsConfig
  readonly store: Store
  readonly clock: Clock
  readonly ids: IdSource
  /** Called when a commit listener throws (logged by the server). */
  readonly onListenerError?: (error: unknown) => void
  /** Seals secret keys at rest; loaded from outside the database by the composition root. */
  readonly masterKey: MasterKey
  /** scrypt cost of password hashes (tests lower it; the default is OWASP's). */
  readonly passwordCost?: ScryptCost
}

export function createServices(deps: ServiceDeps): Services {
  const { config, store, clock, ids } = deps
  const publisher = new Publisher(deps.onListenerError)
  const audit = new SelfAudit(clock, ids)
  const retentionMs = config.retentionDays * 86_400_000
  const projects = new ProjectRegistry({
    config: store.config,
    clock,
    ids,
    audit,
    publisher,
    domainOf: async (projectId) => (await store.identity.getProject(projectId))?.accountId ?? '',
  })
  const passwordCost = deps.passwordCost === undefined ? {} : { passwordCost: deps.passwordCost }
  return {
    config,
    store,
    clock,
    ids,
    publisher,
    audit,
    ingestor: new Ingestor({ traces: store.traces, clock, ids, publisher }),
    projects,
    traceQuery: new TraceQuery({ traces: store.traces, clock, retentionMs }),
    trackers: new TrackerService({
      traces: store.traces,
      config: store.config,
      audit,
      publisher,
      clock,
      ids,
    }),
    notifications: new NotificationService({
      traces: store.traces,
      config: store.config,
      audit,
      publisher,
      clock,
      ids,
    }),
    tags: new TagService({ config: store.config }),
    identity: new IdentityAdmin({
      store: store.identity,
      clock,
      masterKey: deps.masterKey,
      ...passwordCost,
    }),
    auth: new Authenticator({
      store: store.identity,
      clock,
      masterKey: deps.masterKey,
      audit,
      throttle: new FailureThrottle({
        clock,
        limit: config.authFailureLimit,
        windowMs: config.authLockoutSeconds * 1000,
        blockMs: config.authLockoutSeconds * 1000,
      }),
      record: async (trace) => {
        await projects.ensure(trace.project_id)
        await store.traces.append([trace])
        publisher.publish([trace])
      },
      ...passwordCost,
    }),
  }
}
