/**
 * @module trackers/validate-tracker
 * Validation of CreateTracker / UpdateTracker bodies against the project's current trackers, in the
 * order of spec §18 so that a body with several problems gets the CTS code CTS would give. Pure: the
 * current trackers and the KMS key lookup come in through the context.
 *
 * POST order: body object and field types (CTS.0003) → `tracker_type` (CTS.0202) →
 * system: name `system` (CTS.0204), not yet created (CTS.0201), no `data_bucket` (CTS.0206),
 * no organization tracker (CTS.0228) |
 * data: name format (CTS.0203), not `system`/`system-trace` (CTS.0207), unique (CTS.0208),
 * quota (CTS.0200), tracked bucket given (CTS.0210) and well-formed (CTS.0231), `data_event`
 * non-empty (CTS.0219) ⊆ {READ, WRITE} (CTS.0225), bucket+event not tracked yet (CTS.0209),
 * transfer bucket ≠ a tracked bucket (CTS.0213) →
 * `obs_info.bucket_name` (CTS.0231), `file_prefix_name` (CTS.0218), system transfer bucket ≠ a tracked
 * bucket (CTS.0213) → encryption: data trackers (CTS.0220), `kms_id` empty (CTS.0221), unknown
 * (CTS.0222).
 *
 * PUT order: body and types (CTS.0003) → `tracker_type` (CTS.0202) → name rule of the type
 * (CTS.0204 / CTS.0203 / CTS.0207) → tracker exists (404 CTS.0214) → system: no `data_bucket`
 * (CTS.0206) → `status` enabled|disabled (CTS.0205) → data: bucket unchanged (CTS.0210 empty,
 * CTS.0212 changed), events as on POST (CTS.0219/0225/0209) → the `obs_info`, organization and
 * encryption rules of POST, applied to the fields the body supplies.
 *
 * Decisions where CTS is silent or OpenCTS lacks a dependency (docs/trackers.md):
 * - CTS.0211 (tracked bucket does not exist) is never answered: OpenCTS has no bucket inventory, so
 *   any well-formed tracked bucket name is accepted (a malformed one is CTS.0231).
 * - CTS.0215/CTS.0216 (`is_obs_created=true`: the bucket exists / cannot be created) are answered
 *   by tracker-service.ts after every rule here passed, since creating a bucket is a side effect.
 * - `is_organization_tracker=true` is CTS.0228 (CTS not trusted): OpenCTS has no organizations.
 * - Encryption on a data tracker is CTS.0220 (KMS not supported): CTS offers it for `system` only.
 * - A missing `data_event` on POST is CTS.0219, like an empty one.
 * - The name rule of CTS.0213 is checked both ways: a new tracked bucket must not be another
 *   tracker's transfer bucket either.
 */
import type { DataEvent, Tracker, TrackerType } from '../model/index.js'
import { DATA_EVENTS, TRACKER_TYPES } from '../model/index.js'
import { bucketNameProblem, isFilePrefix } from './bucket-name.js'
import { DATA_TRACKER_QUOTA } from './quotas.js'
import { reject } from './reject.js'
import { parseTrackerRequest, type TrackerRequest } from './tracker-request.js'

/** Data tracker names: 1–32 of `[A-Za-z0-9_-]`, starting with a letter or digit. */
export const DATA_TRACKER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/
/** Names reserved for the management tracker and its LTS stream. */
export const RESERVED_TRACKER_NAMES: readonly string[] = ['system', 'system-trace']

export interface TrackerValidationContext {
  /** Every tracker of the project, as stored. */
  readonly existing: readonly Tracker[]
  /** Whether a KMS key with this id exists and may be used (CTS.0222 otherwise). */
  readonly kmsKeyExists: (kmsId: string) => boolean
}

/** A validated tracker body: the request plus its checked, narrowed values. */
export interface ValidTrackerRequest {
  readonly type: TrackerType
  readonly name: string
  readonly request: TrackerRequest
  /** PUT only. */
  readonly status?: 'enabled' | 'disabled'
  /** Data trackers: the events to track, de-duplicated, when the body gives them. */
  readonly dataEvents?: readonly DataEvent[]
}

/** A validated PUT body and the tracker it updates. */
export interface ValidTrackerUpdate extends ValidTrackerRequest {
  readonly target: Tracker
}

const show = (value: string | undefined): string =>
  value === undefined ? 'nothing' : JSON.stringify(value)

function trackerType(value: string | undefined): TrackerType {
  if (value !== undefined && (TRACKER_TYPES as readonly string[]).includes(value)) {
    return value as TrackerType
  }
  return reject('OCTS_ERR_TRACKER_TYPE', `want system or data, got ${show(value)}`)
}

function trackerName(type: TrackerType, value: string | undefined): string {
  if (type === 'system') {
    if (value !== 'system') return reject('OCTS_ERR_SYSTEM_TRACKER_NAME', `got ${show(value)}`)
    return value
  }
  if (value === undefined || !DATA_TRACKER_NAME_PATTERN.test(value)) {
    return reject(
      'OCTS_ERR_TRACKER_NAME_FORMAT',
      `want 1 to 32 letters, digits, _ or -, starting with a letter or digit, got ${show(value)}`,
    )
  }
  if (RESERVED_TRACKER_NAMES.includes(value)) {
    return reject('OCTS_ERR_DATA_TRACKER_NAME_SYSTEM', `got ${show(value)}`)
  }
  return value
}

function dataEvents(events: readonly string[] | undefined): DataEvent[] {
  if (events === undefined || events.length === 0) {
    return reject('OCTS_ERR_DATA_EVENT_EMPTY', 'data_bucket.data_event must list READ and/or WRITE')
  }
  const bad = events.find((e) => !(DATA_EVENTS as readonly string[]).includes(e))
  if (bad !== undefined) return reject('OCTS_ERR_DATA_EVENT_INVALID', `got ${show(bad)}`)
  return DATA_EVENTS.filter((e) => events.includes(e))
}

function checkBucketName(field: string, name: string): void {
  const problem = bucketNameProblem(name)
  if (problem !== undefined) reject('OCTS_ERR_BUCKET_NAME', `${field} ${problem}`)
}

/** No other data tracker may track one of `events` on `bucket` (CTS.0209). */
function checkEventsFree(
  ctx: TrackerValidationContext,
  bucket: string,
  events: readonly DataEvent[],
  selfId: string | undefined,
): void {
  for (const other of ctx.existing) {
    if (other.id === selfId || other.data_bucket?.data_bucket_name !== bucket) continue
    const shared = other.data_bucket.data_event.filter((e) => events.includes(e))
    if (shared.length > 0) {
      reject(
        'OCTS_ERR_DATA_BUCKET_TRACKED',
        `${shared.join(' and ')} on bucket ${JSON.stringify(bucket)} is tracked by tracker ${JSON.stringify(other.tracker_name)}`,
      )
    }
  }
}

/** A transfer bucket must not be a tracked bucket, its own included (CTS.0213). */
function checkTransferNotTracked(ctx: TrackerValidationContext, transfer: string): void {
  if (transfer === '') return
  const tracker = ctx.existing.find((t) => t.data_bucket?.data_bucket_name === transfer)
  if (tracker !== undefined) {
    reject(
      'OCTS_ERR_TRANSFER_BUCKET_TRACKED',
      `bucket ${JSON.stringify(transfer)} is tracked by tracker ${JSON.stringify(tracker.tracker_name)}`,
    )
  }
}

function checkObsInfo(request: TrackerRequest): void {
  const bucket = request.obs_info?.bucket_name
  if (bucket !== undefined && bucket !== '') checkBucketName('obs_info.bucket_name', bucket)
  const prefix = request.obs_info?.file_prefix_name
  if (prefix !== undefined && !isFilePrefix(prefix)) {
    reject(
      'OCTS_ERR_FILE_PREFIX_FORMAT',
      `want 0 to 64 letters, digits, ., _ or -, got ${JSON.stringify(prefix)}`,
    )
  }
}

function checkOrganization(request: TrackerRequest): void {
  if (request.is_organization_tracker === true) {
    reject(
      'OCTS_ERR_ORG_NOT_TRUSTED',
      'OpenCTS has no organizations; organization trackers are not available',
    )
  }
}

/** Encryption rules for the state after the change: `enabled`/`kmsId` merged with the tracker's. */
function checkEncryption(
  ctx: TrackerValidationContext,
  type: TrackerType,
  enabled: boolean,
  kmsId: string | undefined,
): void {
  if (!enabled) return
  if (type === 'data') {
    reject(
      'OCTS_ERR_KMS_UNSUPPORTED',
      'trace file encryption is available for the system tracker only',
    )
  }
  if (kmsId === undefined || kmsId === '') {
    reject(
      'OCTS_ERR_KMS_ID_EMPTY',
      'is_support_trace_files_encryption is true, so kms_id is required',
    )
  }
  if (!ctx.kmsKeyExists(kmsId))
    reject('OCTS_ERR_KMS_VERIFICATION', `no usable key ${JSON.stringify(kmsId)}`)
}

/** Validates a CreateTracker body. Throws the first violation in the module's POST order. */
export function validateCreateTracker(
  body: unknown,
  ctx: TrackerValidationContext,
): ValidTrackerRequest {
  const request = parseTrackerRequest(body)
  const type = trackerType(request.tracker_type)
  const name = trackerName(type, request.tracker_name)
  let events: DataEvent[] | undefined
  if (type === 'system') {
    if (ctx.existing.some((t) => t.tracker_type === 'system')) {
      reject('OCTS_ERR_SYSTEM_TRACKER_EXISTS', 'delete it or update it with PUT')
    }
    if (request.data_bucket !== undefined) {
      reject('OCTS_ERR_SYSTEM_TRACKER_DATA_BUCKET', 'remove data_bucket or use tracker_type data')
    }
    checkOrganization(request)
  } else {
    if (ctx.existing.some((t) => t.tracker_name === name))
      reject('OCTS_ERR_TRACKER_EXISTS', `got ${show(name)}`)
    const dataTrackers = ctx.existing.filter((t) => t.tracker_type === 'data').length
    if (dataTrackers >= DATA_TRACKER_QUOTA) {
      reject(
        'OCTS_ERR_TRACKER_QUOTA',
        `the project has ${dataTrackers} data trackers, max ${DATA_TRACKER_QUOTA}`,
      )
    }
    checkOrganization(request)
    const bucket = request.data_bucket?.data_bucket_name
    if (bucket === undefined || bucket === '') {
      reject(
        'OCTS_ERR_DATA_BUCKET_EMPTY',
        'data_bucket.data_bucket_name is required for a data tracker',
      )
    }
    checkBucketName('data_bucket.data_bucket_name', bucket)
    events = dataEvents(request.data_bucket?.data_event)
    checkEventsFree(ctx, bucket, events, undefined)
    const transfer = request.obs_info?.bucket_name ?? ''
    if (transfer === bucket) {
      reject(
        'OCTS_ERR_TRANSFER_BUCKET_TRACKED',
        `obs_info.bucket_name ${JSON.stringify(bucket)} is the tracked bucket`,
      )
    }
    checkTransferNotTracked(ctx, transfer)
    const transferring = ctx.existing.find((t) => t.obs_info.bucket_name === bucket)
    if (transferring !== undefined) {
      reject(
        'OCTS_ERR_TRANSFER_BUCKET_TRACKED',
        `bucket ${JSON.stringify(bucket)} receives the trace files of tracker ${JSON.stringify(transferring.tracker_name)}`,
      )
    }
  }
  checkObsInfo(request)
  if (type === 'system') checkTransferNotTracked(ctx, request.obs_info?.bucket_name ?? '')
  checkEncryption(ctx, type, request.is_support_trace_files_encryption === true, request.kms_id)
  return { type, name, request, ...(events === undefined ? {} : { dataEvents: events }) }
}

/** Validates an UpdateTracker body. Throws the first violation in the module's PUT order. */
export function validateUpdateTracker(
  body: unknown,
  ctx: TrackerValidationContext,
): ValidTrackerUpdate {
  const request = parseTrackerRequest(body)
  const type = trackerType(request.tracker_type)
  const name = trackerName(type, request.tracker_name)
  const target = ctx.existing.find((t) => t.tracker_type === type && t.tracker_name === name)
  if (target === undefined)
    return reject('OCTS_ERR_TRACKER_NOT_FOUND', `no ${type} tracker ${show(name)}`)
  if (type === 'system' && request.data_bucket !== undefined) {
    reject('OCTS_ERR_SYSTEM_TRACKER_DATA_BUCKET', 'remove data_bucket or use tracker_type data')
  }
  const status = request.status
  if (status !== undefined && status !== 'enabled' && status !== 'disabled') {
    reject('OCTS_ERR_TRACKER_STATUS', `got ${show(status)}`)
  }
  let events: DataEvent[] | undefined
  const tracked = target.data_bucket?.data_bucket_name
  if (type === 'data' && tracked !== undefined && request.data_bucket !== undefined) {
    const bucket = request.data_bucket.data_bucket_name
    if (bucket === '') reject('OCTS_ERR_DATA_BUCKET_EMPTY', 'data_bucket.data_bucket_name is empty')
    if (bucket !== undefined && bucket !== tracked) {
      reject(
        'OCTS_ERR_DATA_BUCKET_IMMUTABLE',
        `tracker tracks ${JSON.stringify(tracked)}, got ${JSON.stringify(bucket)}`,
      )
    }
    if (request.data_bucket.data_event !== undefined) {
      events = dataEvents(request.data_bucket.data_event)
      checkEventsFree(ctx, tracked, events, target.id)
    }
  }
  checkObsInfo(request)
  const transfer = request.obs_info?.bucket_name
  if (transfer !== undefined) checkTransferNotTracked(ctx, transfer)
  checkOrganization(request)
  if (request.is_support_trace_files_encryption !== undefined || request.kms_id !== undefined) {
    const enabled =
      request.is_support_trace_files_encryption ?? target.is_support_trace_files_encryption
    checkEncryption(ctx, type, enabled, request.kms_id ?? target.kms_id)
  }
  return {
    type,
    name,
    request,
    target,
    ...(status === undefined ? {} : { status }),
    ...(events === undefined ? {} : { dataEvents: events }),
  }
}
