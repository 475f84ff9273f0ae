/**
 * @module store/ports/alarms
 * The alarm port: alarm rules (CRUD, each change committed with its self-audit traces), their
 * evaluated state, and the history of their state transitions, each transition committed with
 * the outbox deliveries that notify it.
 */
import type { TraceRecord } from '../../model/index.js'
import type { DeliveryRecord } from './delivery.js'

export type AlarmState = 'ok' | 'alarm' | 'insufficient_data'

export type AlarmComparison = '>' | '>=' | '<' | '<='

/**
 * The traces a rule counts: the ListTraces v3 filter fields under their API names (only those
 * given; `trace_type` always). An object, so that fields can be added (e.g. a search query `q`).
 */
export interface AlarmFilter {
  readonly trace_type: 'system' | 'data'
  readonly tracker_name?: string
  readonly service_type?: string
  readonly resource_type?: string
  readonly resource_id?: string
  readonly resource_name?: string
  readonly trace_name?: string
  readonly trace_rating?: 'normal' | 'warning' | 'incident'
  readonly user?: string
  readonly access_key_id?: string
  /** A search (`q=` of ListTraces; docs/search.md). */
  readonly q?: string
}

/** The evaluated part of a rule, written by the evaluator (and reset by re-enabling). */
export interface AlarmStatus {
  readonly state: AlarmState
  /** Why the rule is in its state, in words. */
  readonly stateReason: string
  /** When the rule entered its state (ms). */
  readonly stateChangedAt: number
  /** The count of the last evaluation; null before the first. */
  readonly lastCount: number | null
  /** When the rule was last evaluated (ms); null before the first. */
  readonly lastEvaluatedAt: number | null
}

export interface AlarmRule extends AlarmStatus {
  readonly id: string
  readonly projectId: string
  /** Unique per project. */
  readonly name: string
  readonly description: string
  readonly filter: AlarmFilter
  readonly comparison: AlarmComparison
  readonly threshold: number
  /** The window counted, seconds. */
  readonly periodSeconds: number
  readonly enabled: boolean
  /** A topic of the project notified of every transition, or null. */
  readonly topicUrn: string | null
  /** When the rule was created or last re-enabled: data is sufficient one period after (ms). */
  readonly enabledAt: number
  readonly createdAt: number
  readonly updatedAt: number
  /** Incremented by every change through the API; an evaluation of an older version is dropped. */
  readonly version: number
}

/** One state transition of a rule, as the history keeps it. */
export interface AlarmTransition {
  readonly id: string
  readonly projectId: string
  readonly alarmId: string
  readonly alarmName: string
  readonly oldState: AlarmState
  readonly newState: AlarmState
  readonly reason: string
  /** The count that caused it; null when nothing was counted (e.g. re-enabled). */
  readonly count: number | null
  readonly comparison: AlarmComparison
  readonly threshold: number
  readonly periodSeconds: number
  /** The window counted: [windowStart, windowEnd) (ms). */
  readonly windowStart: number
  readonly windowEnd: number
  readonly time: number
  /** How many deliveries notify it (the topic's subscriptions then). */
  readonly notified: number
}

/** Where a history page continues: strictly older than this transition. */
export interface AlarmHistoryCursor {
  readonly time: number
  readonly id: string
}

/** An evaluation's result, written if the rule is still at `version`. */
export interface AlarmEvaluation {
  readonly projectId: string
  readonly alarmId: string
  readonly version: number
  readonly status: AlarmStatus
  /** The transition it makes, or null when the state stays. */
  readonly transition: AlarmTransition | null
  /** The outbox deliveries notifying the transition. */
  readonly deliveries: readonly DeliveryRecord[]
}

/** A position in the evaluator's walk over every enabled rule: (project, id) order. */
export interface AlarmKey {
  readonly projectId: string
  readonly id: string
}

/**
 * Alarm rules, their state and history. Every API mutation takes the self-audit traces describing
 * it and commits them with the change; a transition is committed with its history entry and its
 * deliveries in one transaction, so a transition is never without its record or its notification.
 */
export interface AlarmStore {
  /** Throws OCTS_ERR_CONFLICT if (project, name) exists. */
  insertAlarm(rule: AlarmRule, audit: readonly TraceRecord[]): Promise<void>
  /**
   * Replaces the rule with the same (project, id), with the transition the change makes (e.g.
   * re-enabled → insufficient_data) and its deliveries. Throws OCTS_ERR_ALARM_NOT_FOUND if it is
   * gone, OCTS_ERR_CONFLICT if its new name is another rule's.
   */
  updateAlarm(
    rule: AlarmRule,
    audit: readonly TraceRecord[],
    transition: AlarmTransition | null,
    deliveries: readonly DeliveryRecord[],
  ): Promise<void>
  /** Deletes the rule and its history; false when it did not exist. */
  deleteAlarm(projectId: string, id: string, audit: readonly TraceRecord[]): Promise<boolean>
  getAlarm(projectId: string, id: string): Promise<AlarmRule | undefined>
  /** The project's rules, sorted by name. */
  listAlarms(projectId: string): Promise<AlarmRule[]>
  countAlarms(projectId: string): Promise<number>
  /** Enabled rules of every project after `after` in (project, id) order, at most `limit`. */
  enabledAlarms(after: AlarmKey | null, limit: number): Promise<AlarmRule[]>
  /**
   * Writes an evaluation: the status, the transition (history) and its deliveries (outbox, a known
   * id ignored), in one transaction, only if the rule exists at `version` (returns false otherwise
   * and writes nothing).
   */
  recordEvaluation(evaluation: AlarmEvaluation): Promise<boolean>
  /** The rule's transitions, newest first (time, then id), strictly older than `before`. */
  history(
    projectId: string,
    alarmId: string,
    before: AlarmHistoryCursor | null,
    limit: number,
  ): Promise<AlarmTransition[]>
}
