/**
 * @module notifications/validate-notification
 * Validation of CreateNotification / UpdateNotification bodies (spec §6.2, §6.3, §18) against the
 * project's current notifications. Pure.
 *
 * Codes: a body that is not a JSON object is CTS.0003; a duplicate name CTS.0400 (on rename too);
 * an unknown `notification_id` on update 404 CTS.0401; the 100-notification quota CTS.0402; every
 * other invalid field, wrong JSON types included, CTS.0403 with a got/want message.
 *
 * Order, create: name format → name unique → quota → `operation_type` → `operations` →
 * `notify_user_list` → `topic_id` → `filter` → `agency_name`.
 * Order, update: `notification_id` → exists → name format → unique among the others → `status` →
 * then as create, with `topic_id` required when `status` is `enabled`.
 *
 * Rules: name 1–64 letters, digits, `_` or CJK characters (U+4E00–U+9FA5); `operation_type`
 * complete|customized, customized needing ≥ 1 operation; each operation has a `service_type`,
 * `resource_type` and non-empty `trace_names` of trace-name syntax; ≤ 1000 trace names over ≤ 100
 * services; ≤ 10 user groups with ≤ 50 users in total; `filter` `{condition AND|OR (default AND),
 * is_support_filter, rule[]}` with 1–6 rules of the grammar of model/notification-rule.ts when
 * filtering is on (≤ 6 always); `agency_name` only `cts_admin_trust`. An empty `topic_id` counts as
 * absent. Unknown fields are ignored.
 */
import type {
  Notification,
  NotificationFilter,
  NotificationOperation,
  NotificationStatus,
  NotificationType,
  NotificationUsers,
  OperationType,
} from '../model/index.js'
import {
  NOTIFICATION_STATUSES,
  OPERATION_TYPES,
  RESOURCE_TYPE_PATTERN,
  SERVICE_TYPE_PATTERN,
  TRACE_NAME_PATTERN,
  parseFilterRule,
} from '../model/index.js'
import { BodyReader, describeJson, isJsonObject } from '../trackers/body-reader.js'
import { NOTIFICATION_QUOTA } from '../trackers/quotas.js'
import { reject } from '../trackers/reject.js'
import { TOPIC_URN_FORMS, parseTopicUrn } from './topic-urn.js'

export const NOTIFICATION_NAME_PATTERN = /^[A-Za-z0-9_\u4e00-\u9fa5]{1,64}$/
export const MAX_USER_GROUPS = 10
export const MAX_USERS = 50
export const MAX_OPERATIONS = 1000
export const MAX_OPERATION_SERVICES = 100
export const MAX_FILTER_RULES = 6
/** IAM user and group names: 1–64 characters. */
const MAX_IAM_NAME = 64

export interface NotificationValidationContext {
  /** Every notification of the project, as stored. */
  readonly existing: readonly Notification[]
}

/** A validated body: the notification's configurable fields. */
export interface NotificationInput {
  readonly notification_name: string
  readonly operation_type: OperationType
  readonly operations: NotificationOperation[]
  readonly notify_user_list: NotificationUsers[]
  /** The topic and the notification type it implies; undefined without a topic. */
  readonly topic?: { readonly id: string; readonly type: NotificationType }
  readonly filter?: NotificationFilter
  readonly agency_name?: string
}

export interface ValidNotificationUpdate extends NotificationInput {
  readonly target: Notification
  readonly status: NotificationStatus
}

function invalid(message: string): never {
  return reject('OCTS_ERR_NOTIFICATION_INVALID', message)
}

function reader(body: unknown): BodyReader {
  if (!isJsonObject(body)) {
    const got = body === undefined ? 'nothing' : describeJson(body)
    return reject('OCTS_ERR_INVALID_BODY', `want a JSON object, got ${got}`)
  }
  return new BodyReader(body, '', invalid)
}

function required(body: BodyReader, key: string): string {
  return body.string(key) ?? body.fail(key, 'is required')
}

function oneOf<T extends string>(body: BodyReader, key: string, allowed: readonly T[]): T {
  const value = required(body, key)
  if ((allowed as readonly string[]).includes(value)) return value as T
  return body.fail(key, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`)
}

function name(body: BodyReader, ctx: NotificationValidationContext, selfId?: string): string {
  const value = required(body, 'notification_name')
  if (!NOTIFICATION_NAME_PATTERN.test(value)) {
    body.fail(
      'notification_name',
      `must be 1 to 64 letters, digits, _ or Chinese characters, got ${JSON.stringify(value)}`,
    )
  }
  if (ctx.existing.some((n) => n.notification_name === value && n.notification_id !== selfId)) {
    reject('OCTS_ERR_NOTIFICATION_EXISTS', `got ${JSON.stringify(value)}`)
  }
  return value
}

function matching(body: BodyReader, key: string, pattern: RegExp, want: string): string {
  const value = required(body, key)
  if (!pattern.test(value)) body.fail(key, `must be ${want}, got ${JSON.stringify(value)}`)
  return value
}

function operations(body: BodyReader, type: OperationType): NotificationOperation[] {
  const items = body.objectArray('operations') ?? []
  if (type === 'customized' && items.length === 0) {
    body.fail('operations', 'must list at least one operation when operation_type is customized')
  }
  const out = items.map((item): NotificationOperation => {
    const traceNames = item.stringArray('trace_names') ?? item.fail('trace_names', 'is required')
    if (traceNames.length === 0) item.fail('trace_names', 'must list at least one trace name')
    traceNames.forEach((traceName, index) => {
      if (!TRACE_NAME_PATTERN.test(traceName)) {
        item.fail(
          `trace_names[${index}]`,
          `must be 1 to 64 letters, digits, ., _ or -, starting with a letter, got ${JSON.stringify(traceName)}`,
        )
      }
    })
    return {
      service_type: matching(item, 'service_type', SERVICE_TYPE_PATTERN, 'a service type like ECS'),
      resource_type: matching(item, 'resource_type', RESOURCE_TYPE_PATTERN, 'a resource type'),
      trace_names: traceNames,
    }
  })
  const total = out.reduce((sum, op) => sum + op.trace_names.length, 0)
  if (total > MAX_OPERATIONS) {
    body.fail('operations', `list ${total} trace names, max ${MAX_OPERATIONS}`)
  }
  const services = new Set(out.map((op) => op.service_type)).size
  if (services > MAX_OPERATION_SERVICES) {
    body.fail('operations', `cover ${services} services, max ${MAX_OPERATION_SERVICES}`)
  }
  return out
}

function iamName(body: BodyReader, key: string, value: string): string {
  if (value.length < 1 || value.length > MAX_IAM_NAME) {
    body.fail(key, `must have 1 to ${MAX_IAM_NAME} characters, got ${JSON.stringify(value)}`)
  }
  return value
}

function users(body: BodyReader): NotificationUsers[] {
  const groups = body.objectArray('notify_user_list') ?? []
  if (groups.length > MAX_USER_GROUPS) {
    body.fail('notify_user_list', `has ${groups.length} user groups, max ${MAX_USER_GROUPS}`)
  }
  const out = groups.map((group): NotificationUsers => {
    const userList = group.stringArray('user_list') ?? group.fail('user_list', 'is required')
    return {
      user_group: iamName(group, 'user_group', required(group, 'user_group')),
      user_list: userList.map((user, index) => iamName(group, `user_list[${index}]`, user)),
    }
  })
  const total = out.reduce((sum, group) => sum + group.user_list.length, 0)
  if (total > MAX_USERS) body.fail('notify_user_list', `has ${total} users, max ${MAX_USERS}`)
  return out
}

function topic(body: BodyReader): NotificationInput['topic'] {
  const id = body.string('topic_id')
  if (id === undefined || id === '') return undefined
  const urn = parseTopicUrn(id)
  if (urn === undefined)
    body.fail('topic_id', `must be ${TOPIC_URN_FORMS}, got ${JSON.stringify(id)}`)
  return { id, type: urn.type }
}

function filter(body: BodyReader): NotificationFilter | undefined {
  const f = body.object('filter')
  if (f === undefined) return undefined
  const condition = f.has('condition') ? oneOf(f, 'condition', ['AND', 'OR'] as const) : 'AND'
  const enabled = f.boolean('is_support_filter') ?? f.fail('is_support_filter', 'is required')
  const rules = f.stringArray('rule') ?? f.fail('rule', 'is required')
  if (rules.length > MAX_FILTER_RULES)
    f.fail('rule', `has ${rules.length} rules, max ${MAX_FILTER_RULES}`)
  if (enabled && rules.length === 0) {
    f.fail('rule', 'must have 1 to 6 rules when is_support_filter is true')
  }
  rules.forEach((rule, index) => {
    const parsed = parseFilterRule(rule)
    if ('error' in parsed) f.fail(`rule[${index}]`, parsed.error)
  })
  return { condition, is_support_filter: enabled, rule: rules }
}

function agency(body: BodyReader): string | undefined {
  return body.has('agency_name')
    ? oneOf(body, 'agency_name', ['cts_admin_trust'] as const)
    : undefined
}

/** The fields after the name (and status), read in the module's order. */
function rest(body: BodyReader, notificationName: string): NotificationInput {
  const operationType = oneOf(body, 'operation_type', OPERATION_TYPES)
  const input: NotificationInput = {
    notification_name: notificationName,
    operation_type: operationType,
    operations: operations(body, operationType),
    notify_user_list: users(body),
  }
  const topicRef = topic(body)
  const filterValue = filter(body)
  const agencyName = agency(body)
  return {
    ...input,
    ...(topicRef === undefined ? {} : { topic: topicRef }),
    ...(filterValue === undefined ? {} : { filter: filterValue }),
    ...(agencyName === undefined ? {} : { agency_name: agencyName }),
  }
}

/** Validates a CreateNotification body; throws the first violation in the module's create order. */
export function validateCreateNotification(
  body: unknown,
  ctx: NotificationValidationContext,
): NotificationInput {
  const fields = reader(body)
  const notificationName = name(fields, ctx)
  if (ctx.existing.length >= NOTIFICATION_QUOTA) {
    reject(
      'OCTS_ERR_NOTIFICATION_QUOTA',
      `the project has ${ctx.existing.length} notifications, max ${NOTIFICATION_QUOTA}`,
    )
  }
  return rest(fields, notificationName)
}

/** Validates an UpdateNotification body; throws the first violation in the module's update order. */
export function validateUpdateNotification(
  body: unknown,
  ctx: NotificationValidationContext,
): ValidNotificationUpdate {
  const fields = reader(body)
  const id = required(fields, 'notification_id')
  const target = ctx.existing.find((n) => n.notification_id === id)
  if (target === undefined) {
    return reject('OCTS_ERR_NOTIFICATION_NOT_FOUND', `no notification ${JSON.stringify(id)}`)
  }
  const notificationName = name(fields, ctx, id)
  const status = oneOf(fields, 'status', NOTIFICATION_STATUSES)
  const input = rest(fields, notificationName)
  if (status === 'enabled' && input.topic === undefined) {
    fields.fail('topic_id', 'is required when status is enabled')
  }
  return { ...input, target, status }
}
