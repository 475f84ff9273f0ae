/**
 * @module notifications/notification-service
 * The key-event notification APIs (spec §6.2–§6.5): create, update (full replacement), list by type,
 * delete by id. Every create/update/delete call is self-audited (`createNotification` /
 * `updateNotification` / `deleteNotification`, resource type `notification`), failures included,
 * with the contract of trackers/audited-call.ts: on success the audit traces commit with the change.
 *
 * A notification's type follows its topic (`urn:smn:` → `smn`, `urn:fss:` → `fun`); one without a
 * topic is an `smn` notification. Status on create: `enabled` when a topic is set, else `disabled`.
 * Disabled and deleted notifications send nothing (delivery reads `status`).
 *
 * Concurrency: names are unique by the store; the quota check reads first and may be passed by a
 * handful of concurrent creates.
 */
import type { Caller } from '../ingest/index.js'
import type { Notification, NotificationType } from '../model/index.js'
import { NOTIFICATION_TYPES } from '../model/index.js'
import type { Clock, IdSource } from '../platform/clock.js'
import type { ConfigStore } from '../store/index.js'
import {
  runAudited,
  type AuditScope,
  type AuditedCallDeps,
  type ServiceResult,
} from '../ingest/audited-call.js'
import { isJsonObject } from '../trackers/body-reader.js'
import { queryList, queryParam, type QueryParams } from '../trackers/query-params.js'
import { reject } from '../trackers/reject.js'
import {
  validateCreateNotification,
  validateUpdateNotification,
  type NotificationInput,
} from './validate-notification.js'

export interface NotificationServiceDeps extends AuditedCallDeps {
  readonly config: ConfigStore
  readonly clock: Clock
  readonly ids: IdSource
}

interface Identity {
  readonly notification_id: string
  readonly project_id: string
  readonly create_time: number
  readonly domain_id?: string
}

/** The stored notification for validated fields: type and status follow the topic. */
function build(
  identity: Identity,
  input: NotificationInput,
  status?: 'enabled' | 'disabled',
): Notification {
  return {
    notification_id: identity.notification_id,
    notification_name: input.notification_name,
    operation_type: input.operation_type,
    operations: input.operations,
    notify_user_list: input.notify_user_list,
    status: status ?? (input.topic === undefined ? 'disabled' : 'enabled'),
    ...(input.topic === undefined ? {} : { topic_id: input.topic.id }),
    notification_type: input.topic?.type ?? 'smn',
    project_id: identity.project_id,
    ...(identity.domain_id === undefined ? {} : { domain_id: identity.domain_id }),
    create_time: identity.create_time,
    ...(input.filter === undefined ? {} : { filter: input.filter }),
    ...(input.agency_name === undefined ? {} : { agency_name: input.agency_name }),
  }
}

function nameIn(body: unknown): string | null {
  const value = isJsonObject(body) ? body.notification_name : undefined
  return typeof value === 'string' ? value : null
}

export class NotificationService {
  readonly #deps: NotificationServiceDeps

  constructor(deps: NotificationServiceDeps) {
    this.#deps = deps
  }

  /**
   * `POST /v3/{project_id}/notifications`: 201 with the new notification. CTS.0003 (not an object),
   * CTS.0400 (name taken), CTS.0402 (quota of 100), CTS.0403 (any invalid field).
   */
  create(projectId: string, body: unknown, caller: Caller): Promise<ServiceResult> {
    return this.#run(projectId, 'createNotification', body, caller, async (scope) => {
      const { config, clock, ids } = this.#deps
      scope.describe(null, nameIn(body))
      const existing = await config.listNotifications(projectId)
      const input = validateCreateNotification(body, { existing })
      const domainId = caller.user?.domain?.id
      const notification = build(
        {
          notification_id: ids.uuid(),
          project_id: projectId,
          create_time: clock.now(),
          ...(domainId === undefined ? {} : { domain_id: domainId }),
        },
        input,
      )
      const audit = scope.success({
        code: 201,
        response: notification,
        resourceId: notification.notification_id,
        resourceName: notification.notification_name,
      })
      await config.insertNotification(notification, audit)
      return { status: 201, body: notification }
    })
  }

  /**
   * `PUT /v3/{project_id}/notifications`: 200 with the notification, fully replaced by the body
   * (identity, project, domain and create_time are kept). 404 CTS.0401 for an unknown
   * `notification_id`; CTS.0400 when the new name is another notification's; CTS.0403 for an
   * invalid field, a missing `status`, or `status=enabled` without `topic_id`.
   */
  update(projectId: string, body: unknown, caller: Caller): Promise<ServiceResult> {
    return this.#run(projectId, 'updateNotification', body, caller, async (scope) => {
      const { config } = this.#deps
      const id =
        isJsonObject(body) && typeof body.notification_id === 'string' ? body.notification_id : null
      scope.describe(id, nameIn(body))
      const existing = await config.listNotifications(projectId)
      const valid = validateUpdateNotification(body, { existing })
      const notification = build(valid.target, valid, valid.status)
      const audit = scope.success({
        code: 200,
        response: notification,
        resourceId: notification.notification_id,
        resourceName: notification.notification_name,
      })
      await config.updateNotification(notification, audit)
      return { status: 200, body: notification }
    })
  }

  /**
   * `GET /v3/{project_id}/notifications/{notification_type}?notification_name=`: 200
   * `{"notifications":[...]}` of that type, sorted by name (empty when none). 400 CTS.0300 when the
   * type is not `smn` or `fun`, or a key is repeated.
   */
  async list(
    projectId: string,
    notificationType: string,
    query: QueryParams,
  ): Promise<ServiceResult> {
    if (!(NOTIFICATION_TYPES as readonly string[]).includes(notificationType)) {
      reject(
        'OCTS_ERR_QUERY',
        `notification_type must be smn or fun, got ${JSON.stringify(notificationType)}`,
      )
    }
    const type = notificationType as NotificationType
    const name = queryParam(query, 'notification_name')
    const all = await this.#deps.config.listNotifications(projectId)
    const notifications = all.filter(
      (n) => n.notification_type === type && (name === undefined || n.notification_name === name),
    )
    return { status: 200, body: { notifications } }
  }

  /**
   * `DELETE /v3/{project_id}/notifications?notification_id=id1,id2` (repeated keys accepted too):
   * 204 after deleting those that exist, one `deleteNotification` trace each. CTS.0403 without any
   * id; 404 CTS.0401 when none of the ids exists.
   */
  delete(projectId: string, query: QueryParams, caller: Caller): Promise<ServiceResult> {
    return this.#run(projectId, 'deleteNotification', query, caller, async (scope) => {
      const { config } = this.#deps
      const ids = [...new Set(queryList(query, 'notification_id'))]
      if (ids.length === 0) reject('OCTS_ERR_NOTIFICATION_INVALID', 'notification_id is required')
      scope.describe(ids.join(','), null)
      const existing = await config.listNotifications(projectId)
      const found = existing.filter((n) => ids.includes(n.notification_id))
      if (found.length === 0) {
        reject(
          'OCTS_ERR_NOTIFICATION_NOT_FOUND',
          `no notification ${ids.map((id) => JSON.stringify(id)).join(', ')}`,
        )
      }
      for (const n of found) {
        scope.success({
          code: 204,
          resourceId: n.notification_id,
          resourceName: n.notification_name,
        })
      }
      const deleting = found.map((n) => n.notification_id)
      await config.deleteNotifications(projectId, deleting, scope.built)
      return { status: 204 }
    })
  }

  #run(
    projectId: string,
    traceName: string,
    request: unknown,
    caller: Caller,
    operation: (scope: AuditScope) => Promise<ServiceResult>,
  ): Promise<ServiceResult> {
    const call = { projectId, traceName, resourceType: 'notification', request, caller }
    return runAudited(this.#deps, call, operation)
  }
}
