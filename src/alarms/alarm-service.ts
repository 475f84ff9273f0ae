/**
 * @module alarms/alarm-service
 * The alarm API (docs/alarms.md): `POST|GET /v3/{project_id}/alarms`,
 * `GET|PUT|DELETE /v3/{project_id}/alarms/{alarm_id}` and `GET …/{alarm_id}/history`.
 *
 * Every create/update/delete is self-audited (`createAlarm` / `updateAlarm` / `deleteAlarm`,
 * resource type `alarm`), failures included, with the contract of ingest/audited-call: on
 * success the audit traces commit with the change. A new rule starts in `insufficient_data`; so
 * does a rule re-enabled (a transition, recorded and notified like the evaluator's).
 *
 * Errors: 400 OCTS.0170 (invalid field, the message names it), 409 OCTS.0171 (name taken),
 * 404 OCTS.0172 (unknown rule), 400 OCTS.0173 (quota), 400 CTS.0003 (body not an object).
 */
import { OpenCtsError, isOpenCtsError } from '../errors/index.js'
import { runAudited, type AuditedCallDeps, type ServiceResult } from '../ingest/audited-call.js'
import type { Caller } from '../ingest/index.js'
import { UUID_PATTERN } from '../model/index.js'
import { parseTopicUrn } from '../notifications/topic-urn.js'
import type { Clock, IdSource } from '../platform/clock.js'
import type { AlarmRule, AlarmStore, DeliveryStore } from '../store/index.js'
import { windowAt } from './alarm-condition.js'
import { readAlarmRequest, type AlarmFields } from './alarm-request.js'
import { makeTransition } from './alarm-transition.js'
import { alarmView, transitionView } from './alarm-view.js'

/** Rules per project at most. */
export const MAX_ALARMS_PER_PROJECT = 100
export const DEFAULT_HISTORY_LIMIT = 20
export const MAX_HISTORY_LIMIT = 200

export interface AlarmServiceDeps extends AuditedCallDeps {
  readonly alarms: AlarmStore
  readonly delivery: Pick<DeliveryStore, 'getTopic' | 'listSubscriptions'>
  readonly clock: Clock
  readonly ids: IdSource
  /** Rules per project at most (default MAX_ALARMS_PER_PROJECT). */
  readonly maxAlarms?: number
  /** Called after a change enqueued notifications (to send them at once). */
  readonly onNotified?: () => void
}

const MARKER = /^(\d{1,16}):([0-9a-f-]{36})$/

function invalid(message: string): never {
  throw new OpenCtsError('OCTS_ERR_ALARM_INVALID', { message })
}

function notFound(id: string): never {
  throw new OpenCtsError('OCTS_ERR_ALARM_NOT_FOUND', {
    message: `no alarm rule ${JSON.stringify(id)} in this project`,
  })
}

function single(query: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = query[name]
  if (value === undefined || value === '') return undefined
  if (typeof value !== 'string') invalid(`${name} is given more than once`)
  return value
}

export class AlarmService {
  readonly #deps: AlarmServiceDeps

  constructor(deps: AlarmServiceDeps) {
    this.#deps = deps
  }

  async #topic(projectId: string, urn: string | null | undefined): Promise<void> {
    if (urn === null || urn === undefined) return
    const parsed = parseTopicUrn(urn)
    const topic = parsed?.type === 'smn' ? await this.#deps.delivery.getTopic(urn) : undefined
    if (topic?.projectId !== projectId)
      invalid(
        `topic_urn ${JSON.stringify(urn)} is not a topic of this project (POST /v3/{project_id}/topics)`,
      )
  }

  async #stored(projectId: string, id: string): Promise<AlarmRule> {
    const rule = UUID_PATTERN.test(id) ? await this.#deps.alarms.getAlarm(projectId, id) : undefined
    return rule ?? notFound(id)
  }

  /** `POST /v3/{project_id}/alarms` → 201 the rule (state `insufficient_data`). */
  create(projectId: string, body: unknown, caller: Caller): Promise<ServiceResult> {
    const call = {
      projectId,
      traceName: 'createAlarm',
      resourceType: 'alarm',
      request: body,
      caller,
    }
    return runAudited(this.#deps, call, async (scope) => {
      const now = this.#deps.clock.now()
      const fields = readAlarmRequest(projectId, body, { create: true, now })
      scope.describe(null, fields.name ?? null)
      await this.#topic(projectId, fields.topicUrn)
      const max = this.#deps.maxAlarms ?? MAX_ALARMS_PER_PROJECT
      if ((await this.#deps.alarms.countAlarms(projectId)) >= max)
        throw new OpenCtsError('OCTS_ERR_ALARM_QUOTA', {
          message: `a project has at most ${max} alarm rules`,
        })
      const rule = this.#newRule(projectId, fields, now)
      const view = alarmView(rule)
      const audit = scope.success({
        code: 201,
        response: view,
        resourceId: rule.id,
        resourceName: rule.name,
      })
      await this.#named(rule, () => this.#deps.alarms.insertAlarm(rule, audit))
      return { status: 201, body: view }
    })
  }

  #newRule(projectId: string, fields: AlarmFields, now: number): AlarmRule {
    const periodSeconds = fields.periodSeconds ?? 300
    return {
      id: this.#deps.ids.uuid(),
      projectId,
      name: fields.name ?? '',
      description: fields.description ?? '',
      filter: fields.filter ?? { trace_type: 'system' },
      comparison: fields.comparison ?? '>',
      threshold: fields.threshold ?? 0,
      periodSeconds,
      enabled: fields.enabled ?? true,
      topicUrn: fields.topicUrn ?? null,
      state: 'insufficient_data',
      stateReason: `less than one period (${periodSeconds} s) since the rule was created`,
      stateChangedAt: now,
      lastCount: null,
      lastEvaluatedAt: null,
      enabledAt: now,
      createdAt: now,
      updatedAt: now,
      version: 1,
    }
  }

  /** Runs a write of `rule`, turning a taken name into OCTS_ERR_ALARM_EXISTS. */
  async #named<T>(rule: AlarmRule, write: () => Promise<T>): Promise<T> {
    try {
      return await write()
    } catch (error) {
      if (isOpenCtsError(error) && error.code === 'OCTS_ERR_CONFLICT')
        throw new OpenCtsError('OCTS_ERR_ALARM_EXISTS', {
          message: `an alarm rule named ${JSON.stringify(rule.name)} exists in this project`,
        })
      throw error
    }
  }

  /** `GET /v3/{project_id}/alarms` → 200 `{"alarms":[…],"count"}` sorted by name. */
  async list(projectId: string): Promise<ServiceResult> {
    const rules = await this.#deps.alarms.listAlarms(projectId)
    return { status: 200, body: { alarms: rules.map(alarmView), count: rules.length } }
  }

  /** `GET /v3/{project_id}/alarms/{alarm_id}` → 200 the rule with its state. */
  async get(projectId: string, id: string): Promise<ServiceResult> {
    return { status: 200, body: alarmView(await this.#stored(projectId, id)) }
  }

  /**
   * `PUT /v3/{project_id}/alarms/{alarm_id}` → 200 the rule. Re-enabling a disabled rule restarts
   * it in `insufficient_data` for one period (a transition when it was in another state).
   */
  update(projectId: string, id: string, body: unknown, caller: Caller): Promise<ServiceResult> {
    const call = {
      projectId,
      traceName: 'updateAlarm',
      resourceType: 'alarm',
      request: body,
      caller,
    }
    return runAudited(this.#deps, call, async (scope) => {
      scope.describe(id, null)
      const stored = await this.#stored(projectId, id)
      scope.describe(id, stored.name)
      const now = this.#deps.clock.now()
      const fields = readAlarmRequest(projectId, body, { create: false, now })
      await this.#topic(projectId, fields.topicUrn)
      let rule: AlarmRule = {
        ...stored,
        ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
        updatedAt: now,
        version: stored.version + 1,
      }
      let change = null
      if (!stored.enabled && rule.enabled) {
        const reason = `less than one period (${rule.periodSeconds} s) since the rule was enabled`
        if (stored.state !== 'insufficient_data')
          change = await makeTransition(this.#deps.delivery, rule, {
            id: this.#deps.ids.uuid(),
            newState: 'insufficient_data',
            reason,
            count: null,
            window: windowAt(rule, now),
            time: now,
          })
        rule = {
          ...rule,
          enabledAt: now,
          state: 'insufficient_data',
          stateReason: reason,
          stateChangedAt: stored.state === 'insufficient_data' ? stored.stateChangedAt : now,
          lastCount: null,
        }
      }
      const view = alarmView(rule)
      const audit = scope.success({ code: 200, response: view, resourceName: rule.name })
      await this.#named(rule, () =>
        this.#deps.alarms.updateAlarm(
          rule,
          audit,
          change?.transition ?? null,
          change?.deliveries ?? [],
        ),
      )
      if ((change?.deliveries.length ?? 0) > 0) this.#deps.onNotified?.()
      return { status: 200, body: view }
    })
  }

  /** `DELETE /v3/{project_id}/alarms/{alarm_id}` → 204; its history goes with it. */
  delete(projectId: string, id: string, caller: Caller): Promise<ServiceResult> {
    const call = {
      projectId,
      traceName: 'deleteAlarm',
      resourceType: 'alarm',
      request: { alarm_id: id },
      caller,
    }
    return runAudited(this.#deps, call, async (scope) => {
      scope.describe(id, null)
      const stored = await this.#stored(projectId, id)
      scope.describe(id, stored.name)
      const audit = scope.success({ code: 204 })
      if (!(await this.#deps.alarms.deleteAlarm(projectId, id, audit))) notFound(id)
      return { status: 204 }
    })
  }

  /**
   * `GET /v3/{project_id}/alarms/{alarm_id}/history?limit=&marker=` → 200
   * `{"history":[…],"meta_data":{"count","marker"}}`, newest first; `marker` (when more exist)
   * continues the walk. `limit` 1-200, default 20.
   */
  async history(
    projectId: string,
    id: string,
    query: Readonly<Record<string, unknown>>,
  ): Promise<ServiceResult> {
    const limitText = single(query, 'limit')
    const limit = limitText === undefined ? DEFAULT_HISTORY_LIMIT : Number(limitText)
    if (
      limitText !== undefined &&
      (!/^\d{1,3}$/.test(limitText) || limit < 1 || limit > MAX_HISTORY_LIMIT)
    )
      invalid(
        `limit must be an integer from 1 to ${MAX_HISTORY_LIMIT}, got ${JSON.stringify(limitText)}`,
      )
    const markerText = single(query, 'marker')
    const marker = markerText === undefined ? null : MARKER.exec(markerText)
    if (markerText !== undefined && marker === null)
      invalid(
        `marker must be the meta_data.marker of a previous page, got ${JSON.stringify(markerText)}`,
      )
    await this.#stored(projectId, id)
    const page = await this.#deps.alarms.history(
      projectId,
      id,
      marker === null ? null : { time: Number(marker[1]), id: marker[2] ?? '' },
      limit + 1,
    )
    const shown = page.slice(0, limit)
    const last = shown.at(-1)
    return {
      status: 200,
      body: {
        history: shown.map(transitionView),
        meta_data: {
          count: shown.length,
          marker: page.length > limit && last !== undefined ? `${last.time}:${last.id}` : null,
        },
      },
    }
  }
}
