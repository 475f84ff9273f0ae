/**
 * @module trackers/project-registry
 * "Enable CTS": the first time a project is used (any project-scoped API call), its management
 * tracker `system` is created and the creation is self-audited (`createTracker`, `SystemAction`).
 * A project seen once is never re-enabled automatically: deleting `system` is respected.
 */
import type { SelfAudit } from '../ingest/self-audit.js'
import type { Publisher } from '../ingest/publisher.js'
import { commitChange } from '../ingest/commit.js'
import type { Clock, IdSource } from '../platform/clock.js'
import type { ConfigStore } from '../store/index.js'
import { newTracker } from './new-tracker.js'

export interface ProjectRegistryDeps {
  readonly config: ConfigStore
  readonly clock: Clock
  readonly ids: IdSource
  readonly audit: SelfAudit
  readonly publisher: Publisher
  /** The account (domain) id of a project, for the tracker's `domain_id`; '' when unknown. */
  readonly domainOf?: (projectId: string) => Promise<string>
}

export class ProjectRegistry {
  readonly #known = new Set<string>()
  readonly #pending = new Map<string, Promise<void>>()

  readonly #deps: ProjectRegistryDeps

  constructor(deps: ProjectRegistryDeps) {
    this.#deps = deps
  }

  /** Registers the project if it is new; idempotent and safe under concurrent calls. */
  async ensure(projectId: string): Promise<void> {
    if (this.#known.has(projectId)) return
    let pending = this.#pending.get(projectId)
    if (pending === undefined) {
      pending = this.#register(projectId).finally(() => this.#pending.delete(projectId))
      this.#pending.set(projectId, pending)
    }
    await pending
  }

  async #register(projectId: string): Promise<void> {
    const { config, clock, ids, audit, publisher } = this.#deps
    const now = clock.now()
    const domainId = (await this.#deps.domainOf?.(projectId)) ?? ''
    let auditTraces: ReturnType<SelfAudit['trace']>[] = []
    await commitChange(
      publisher,
      () =>
        config.ensureProject(projectId, now, () => {
          const tracker = newTracker({
            id: ids.uuid(),
            now,
            projectId,
            domainId,
            type: 'system',
            name: 'system',
          })
          auditTraces = [
            audit.trace({
              projectId,
              traceName: 'createTracker',
              resourceType: 'tracker',
              resourceId: tracker.id,
              resourceName: tracker.tracker_name,
              request: { tracker_type: 'system', tracker_name: 'system' },
              response: tracker,
              code: 201,
              caller: {
                sourceIp: null,
                user: null,
                requestId: null,
                userAgent: null,
                traceType: 'SystemAction',
              },
            }),
          ]
          return { tracker, audit: auditTraces }
        }),
      () => auditTraces,
    )
    this.#known.add(projectId)
  }
}
