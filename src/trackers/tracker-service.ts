/**
 * @module trackers/tracker-service
 * The tracker APIs: v3 create/update/list/delete (spec §5.3–§5.6) and the legacy v1.0 API (§5.7),
 * both acting on the same stored trackers. Every create/update/delete call is self-audited
 * (`createTracker` / `updateTracker` / `deleteTracker`, resource type `tracker`), failures included,
 * with the contract of `audited-call.ts`: on success the audit traces commit with the change.
 *
 * What a tracker's status means (docs/trackers.md, `trackerDelivers` in model/tracker.ts):
 * recording into the 7-day trace list never depends on trackers. A `disabled` tracker, or a deleted
 * one, stops transfer to object storage, log streams and key-event notifications for its traces;
 * the traces it recorded stay queryable until they age out. Deleting `system` is respected: the
 * project is not re-enabled automatically (project-registry.ts).
 *
 * Concurrency: uniqueness of names is enforced by the store; the quota and bucket-overlap checks read
 * the trackers first and may be passed by a handful of concurrent creates.
 */
import type { Caller } from '../ingest/index.js'
import type { Tracker, TrackerType } from '../model/index.js'
import { TRACKER_TYPES } from '../model/index.js'
import type { Clock, IdSource } from '../platform/clock.js'
import type { ConfigStore, TrackerQuery } from '../store/index.js'
import { isOpenCtsError } from '../errors/index.js'
import { applyTrackerRequest } from './apply-tracker-request.js'
import {
  runAudited,
  type AuditScope,
  type AuditedCallDeps,
  type ServiceResult,
} from '../ingest/audited-call.js'
import { isJsonObject, omitUndefined } from './body-reader.js'
import { toV1Tracker, v1BodyToV3 } from './legacy-tracker.js'
import { checkBuckets } from './check-buckets.js'
import { newTracker } from './new-tracker.js'
import { queryParam, type QueryParams } from './query-params.js'
import { reject } from './reject.js'
import {
  validateCreateTracker,
  validateUpdateTracker,
  type TrackerValidationContext,
} from './validate-tracker.js'

export interface TrackerServiceDeps extends AuditedCallDeps {
  readonly config: ConfigStore
  readonly clock: Clock
  readonly ids: IdSource
  /**
   * Whether a KMS key id may encrypt trace files (CTS.0222 otherwise): a key of `opencts keys`.
   * Default: no key exists.
   */
  readonly kmsKeyExists?: (kmsId: string) => boolean | Promise<boolean>
  /**
   * The object store, for `obs_info.is_obs_created` (CTS.0215 when the bucket exists, CTS.0216 when
   * it cannot be created). Without it the flag is only stored.
   */
  readonly buckets?: {
    exists(bucket: string): Promise<boolean>
    create(bucket: string): Promise<void>
  }
}

/** How one API generation reads and answers a mutation. */
interface Dialect {
  /** `v3` or `v1.0`: the audit trace's `api_version`. */
  readonly apiVersion: string
  readonly render: (tracker: Tracker) => unknown
}

const V3: Dialect = { apiVersion: 'v3', render: (tracker) => tracker }
const V1: Dialect = { apiVersion: 'v1.0', render: toV1Tracker }

function stringField(body: unknown, key: string): string | null {
  if (!isJsonObject(body)) return null
  const value = body[key]
  return typeof value === 'string' ? value : null
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function trackerTypeParam(query: QueryParams): TrackerType | undefined {
  const value = queryParam(query, 'tracker_type')
  if (value === undefined || (TRACKER_TYPES as readonly string[]).includes(value)) {
    return value as TrackerType | undefined
  }
  return reject('OCTS_ERR_TRACKER_TYPE', `want system or data, got ${JSON.stringify(value)}`)
}

export class TrackerService {
  readonly #deps: TrackerServiceDeps
  readonly #kmsKeyExists: (kmsId: string) => boolean | Promise<boolean>

  constructor(deps: TrackerServiceDeps) {
    this.#deps = deps
    this.#kmsKeyExists = deps.kmsKeyExists ?? (() => false)
  }

  /**
   * `POST /v3/{project_id}/tracker`: 201 with the new tracker. Throws the codes of
   * validate-tracker.ts in its POST order (CTS.0003, 0202, 0204, 0201, 0206, 0203, 0207, 0208, 0200,
   * 0210, 0231, 0219, 0225, 0209, 0213, 0218, 0220, 0221, 0222, 0228).
   */
  create(projectId: string, body: unknown, caller: Caller): Promise<ServiceResult> {
    return this.#create(projectId, body, caller, V3, () => body)
  }

  /**
   * `PUT /v3/{project_id}/tracker`: 200 with the updated tracker (partial merge, spec §5.4).
   * 404 CTS.0214 when no tracker has the body's type and name; CTS.0205 for a bad `status`;
   * CTS.0212 when a data tracker's bucket would change; other codes as on create.
   */
  update(projectId: string, body: unknown, caller: Caller): Promise<ServiceResult> {
    return this.#update(projectId, body, caller, V3, () => body)
  }

  /**
   * `GET /v3/{project_id}/trackers?tracker_name=&tracker_type=`: 200 `{"trackers":[...]}`, empty
   * when nothing matches. CTS.0202 for an unknown `tracker_type`, CTS.0300 for a repeated key.
   */
  async list(projectId: string, query: QueryParams): Promise<ServiceResult> {
    const filter = omitUndefined<TrackerQuery>({
      name: queryParam(query, 'tracker_name'),
      type: trackerTypeParam(query),
    })
    const trackers = await this.#deps.config.listTrackers(projectId, filter)
    return { status: 200, body: { trackers } }
  }

  /**
   * `DELETE /v3/{project_id}/trackers?tracker_name=&tracker_type=` (spec §5.6): 204. `tracker_type`
   * defaults to `data`, or `system` when `tracker_name=system`; without a name every tracker of the
   * type is deleted. 404 CTS.0214 when nothing matches; CTS.0202 for an unknown type. The traces the
   * trackers recorded are kept. One `deleteTracker` trace per deleted tracker.
   */
  delete(projectId: string, query: QueryParams, caller: Caller): Promise<ServiceResult> {
    return this.#delete(projectId, query, caller, V3, () => ({
      name: queryParam(query, 'tracker_name'),
      type: trackerTypeParam(query),
    }))
  }

  /**
   * `POST /v1.0/{project_id}/tracker`: creates the management tracker from a v1.0 body (spec §5.7);
   * 201 with the v1.0 representation. CTS.0003 without `bucket_name`; otherwise as `create`
   * (typically CTS.0201, since every project's `system` tracker exists from its first use).
   */
  createV1(projectId: string, body: unknown, caller: Caller): Promise<ServiceResult> {
    return this.#create(projectId, body, caller, V1, () => v1BodyToV3(body, 'system', true))
  }

  /** `PUT /v1.0/{project_id}/tracker/{tracker_name}`: 200 with the v1.0 representation; as `update`. */
  updateV1(
    projectId: string,
    trackerName: string,
    body: unknown,
    caller: Caller,
  ): Promise<ServiceResult> {
    return this.#update(projectId, body, caller, V1, () => v1BodyToV3(body, trackerName, false))
  }

  /**
   * `GET /v1.0/{project_id}/tracker?tracker_name=`: with a name, 200 with that management tracker as
   * a flat object (404 CTS.0214 if none); without, 200 with an array of the management trackers.
   */
  async getV1(projectId: string, query: QueryParams): Promise<ServiceResult> {
    const name = queryParam(query, 'tracker_name')
    const trackers = await this.#deps.config.listTrackers(
      projectId,
      omitUndefined<TrackerQuery>({ type: 'system', name }),
    )
    if (name === undefined) return { status: 200, body: trackers.map(toV1Tracker) }
    const [tracker] = trackers
    if (tracker === undefined)
      reject('OCTS_ERR_TRACKER_NOT_FOUND', `no tracker ${JSON.stringify(name)}`)
    return { status: 200, body: toV1Tracker(tracker) }
  }

  /**
   * `DELETE /v1.0/{project_id}/tracker?tracker_name=system`: deletes the management tracker
   * (`tracker_name` defaults to `system`); 204, or 404 CTS.0214.
   */
  deleteV1(projectId: string, query: QueryParams, caller: Caller): Promise<ServiceResult> {
    return this.#delete(projectId, query, caller, V1, () => ({
      name: queryParam(query, 'tracker_name') ?? 'system',
      type: 'system',
    }))
  }

  /**
   * The validation context. The validator is synchronous, so the KMS ids it may ask about (the
   * body's and the stored trackers') are looked up first.
   */
  async #context(existing: readonly Tracker[], body: unknown): Promise<TrackerValidationContext> {
    const ids = new Set(existing.flatMap((t) => (t.kms_id === undefined ? [] : [t.kms_id])))
    const asked = stringField(body, 'kms_id')
    if (asked !== null) ids.add(asked)
    const known = new Set<string>()
    for (const id of ids) if (id !== '' && (await this.#kmsKeyExists(id))) known.add(id)
    return { existing, kmsKeyExists: (id) => known.has(id) }
  }

  /**
   * `POST /v3/{domain_id}/checkbucket`: whether trace files could go to each bucket asked about
   * (trackers/check-buckets). Throws 400 CTS.0003 for a malformed body.
   */
  async checkBuckets(body: unknown): Promise<ServiceResult> {
    const buckets = this.#deps.buckets
    return {
      status: 200,
      body: await checkBuckets(body, {
        bucketExists: buckets === undefined ? undefined : (name) => buckets.exists(name),
        kmsKeyExists: this.#kmsKeyExists,
      }),
    }
  }

  /**
   * Creates the transfer bucket when the body asks (`obs_info.is_obs_created`) and it does not
   * exist, whatever else the request changes: CTS.0216 if creation fails. CTS.0215 when it exists
   * already and is not the tracker's current bucket; the current one existing is what was asked.
   */
  async #createBucket(body: unknown, current: string | undefined): Promise<void> {
    const buckets = this.#deps.buckets
    if (buckets === undefined || !isJsonObject(body) || !isJsonObject(body.obs_info)) return
    const { bucket_name: name, is_obs_created: create } = body.obs_info
    if (create !== true || typeof name !== 'string' || name === '') return
    let exists: boolean
    try {
      exists = await buckets.exists(name)
    } catch (error) {
      reject('OCTS_ERR_BUCKET_CREATE_FAILED', `cannot reach the object store: ${errorText(error)}`)
    }
    if (exists && name === current) return
    if (exists) reject('OCTS_ERR_BUCKET_EXISTS', `bucket ${JSON.stringify(name)} already exists`)
    try {
      await buckets.create(name)
    } catch (error) {
      if (isOpenCtsError(error) && error.code === 'OCTS_ERR_BUCKET_EXISTS') {
        if (name === current) return // created meanwhile: it exists, as asked
        reject('OCTS_ERR_BUCKET_EXISTS', `bucket ${JSON.stringify(name)} already exists`)
      }
      reject('OCTS_ERR_BUCKET_CREATE_FAILED', `bucket ${JSON.stringify(name)}: ${errorText(error)}`)
    }
  }

  #run(
    projectId: string,
    traceName: string,
    request: unknown,
    caller: Caller,
    dialect: Dialect,
    operation: (scope: AuditScope) => Promise<ServiceResult>,
  ): Promise<ServiceResult> {
    const call = { projectId, traceName, resourceType: 'tracker', request, caller }
    return runAudited(this.#deps, { ...call, apiVersion: dialect.apiVersion }, operation)
  }

  #create(
    projectId: string,
    request: unknown,
    caller: Caller,
    dialect: Dialect,
    toV3: () => unknown,
  ): Promise<ServiceResult> {
    return this.#run(projectId, 'createTracker', request, caller, dialect, async (scope) => {
      const { config, clock, ids } = this.#deps
      const body = toV3()
      scope.describe(null, stringField(body, 'tracker_name'))
      const existing = await config.listTrackers(projectId)
      const valid = validateCreateTracker(body, await this.#context(existing, body))
      await this.#createBucket(body, undefined)
      const base = newTracker({
        id: ids.uuid(),
        now: clock.now(),
        projectId,
        domainId: caller.user?.domain?.id ?? '',
        type: valid.type,
        name: valid.name,
      })
      const tracker = applyTrackerRequest(base, valid)
      const response = dialect.render(tracker)
      const audit = scope.success({
        code: 201,
        response,
        resourceId: tracker.id,
        resourceName: tracker.tracker_name,
      })
      try {
        await config.insertTracker(tracker, audit)
      } catch (error) {
        if (!isOpenCtsError(error) || error.code !== 'OCTS_ERR_CONFLICT') throw error
        if (tracker.tracker_type === 'system')
          reject('OCTS_ERR_SYSTEM_TRACKER_EXISTS', 'created concurrently')
        reject('OCTS_ERR_TRACKER_EXISTS', `got ${JSON.stringify(tracker.tracker_name)}`)
      }
      return { status: 201, body: response }
    })
  }

  #update(
    projectId: string,
    request: unknown,
    caller: Caller,
    dialect: Dialect,
    toV3: () => unknown,
  ): Promise<ServiceResult> {
    return this.#run(projectId, 'updateTracker', request, caller, dialect, async (scope) => {
      const { config } = this.#deps
      const body = toV3()
      const name = stringField(body, 'tracker_name')
      const existing = await config.listTrackers(projectId)
      const type = stringField(body, 'tracker_type')
      const named = existing.find((t) => t.tracker_name === name && t.tracker_type === type)
      scope.describe(named?.id ?? null, name)
      const valid = validateUpdateTracker(body, await this.#context(existing, body))
      await this.#createBucket(body, valid.target.obs_info.bucket_name)
      const tracker = applyTrackerRequest(valid.target, valid)
      const response = dialect.render(tracker)
      const audit = scope.success({
        code: 200,
        response,
        resourceId: tracker.id,
        resourceName: tracker.tracker_name,
      })
      await config.updateTracker(tracker, audit)
      return { status: 200, body: response }
    })
  }

  #delete(
    projectId: string,
    query: QueryParams,
    caller: Caller,
    dialect: Dialect,
    select: () => { name: string | undefined; type: TrackerType | undefined },
  ): Promise<ServiceResult> {
    return this.#run(projectId, 'deleteTracker', query, caller, dialect, async (scope) => {
      const { config } = this.#deps
      const { name, type: given } = select()
      const type = given ?? (name === 'system' ? 'system' : 'data')
      scope.describe(null, name ?? null)
      const found = await config.listTrackers(
        projectId,
        omitUndefined<TrackerQuery>({ name, type }),
      )
      if (found.length === 0) {
        const what =
          name === undefined ? `no ${type} trackers` : `no ${type} tracker ${JSON.stringify(name)}`
        reject('OCTS_ERR_TRACKER_NOT_FOUND', what)
      }
      for (const tracker of found) {
        scope.success({ code: 204, resourceId: tracker.id, resourceName: tracker.tracker_name })
      }
      const ids = found.map((t) => t.id)
      await config.deleteTrackers(projectId, ids, scope.built)
      return { status: 204 }
    })
  }
}
