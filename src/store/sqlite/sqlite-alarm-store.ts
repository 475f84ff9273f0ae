/**
 * @module store/sqlite/sqlite-alarm-store
 * AlarmStore on SQLite: `alarm_rules` (a JSON document per rule, unique name per project) and
 * `alarm_history` (a JSON document per transition). Each API mutation commits its audit traces in
 * the same transaction through the engine's one trace append; an evaluation writes the status,
 * the transition and its outbox deliveries in one transaction, only if the rule is still at the
 * version it evaluated, and keeps the newest ALARM_HISTORY_KEEP transitions of the rule.
 */
import { OpenCtsError } from '../../errors/index.js'
import type { TraceRecord } from '../../model/index.js'
import { ALARM_HISTORY_KEEP, deliveryValues } from '../rows.js'
import type {
  AlarmEvaluation,
  AlarmHistoryCursor,
  AlarmKey,
  AlarmRule,
  AlarmStore,
  AlarmTransition,
  DeliveryRecord,
} from '../store.js'
import { isUniqueViolation, run } from './driver-errors.js'
import type { SqliteDatabase, SqliteTraceAppender } from './sqlite-database.js'

const INSERT_DELIVERY = `INSERT OR IGNORE INTO deliveries (id, project_id, notification_id, trace_id,
  target_kind, target_id, protocol, endpoint, payload, status, attempts, next_attempt_at,
  last_error, created_at, delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

const parse = <T>(rows: readonly { doc: string }[]): T[] => rows.map((r) => JSON.parse(r.doc) as T)

export class SqliteAlarmStore implements AlarmStore {
  readonly #db: SqliteDatabase
  readonly #traces: SqliteTraceAppender

  constructor(db: SqliteDatabase, traces: SqliteTraceAppender) {
    this.#db = db
    this.#traces = traces
  }

  #write<T>(audit: readonly TraceRecord[], fn: () => T): Promise<T> {
    return run('write', () =>
      this.#db.transaction(() => {
        const result = fn()
        this.#traces.appendInTransaction(audit)
        return result
      })(),
    )
  }

  #conflict(rule: AlarmRule, error: unknown): never {
    if (isUniqueViolation(error))
      throw new OpenCtsError('OCTS_ERR_CONFLICT', { message: `alarm ${rule.name} exists` })
    throw error
  }

  insertAlarm(rule: AlarmRule, audit: readonly TraceRecord[]): Promise<void> {
    return this.#write(audit, () => {
      try {
        this.#db
          .prepare(
            `INSERT INTO alarm_rules (project_id, id, name, enabled, version, doc)
             VALUES (?, ?, ?, ?, ?, ?)`,
          )
          .run(
            rule.projectId,
            rule.id,
            rule.name,
            rule.enabled ? 1 : 0,
            rule.version,
            JSON.stringify(rule),
          )
      } catch (error) {
        this.#conflict(rule, error)
      }
    })
  }

  updateAlarm(
    rule: AlarmRule,
    audit: readonly TraceRecord[],
    transition: AlarmTransition | null,
    deliveries: readonly DeliveryRecord[],
  ): Promise<void> {
    return this.#write(audit, () => {
      let changes: number
      try {
        changes = this.#db
          .prepare(
            `UPDATE alarm_rules SET name = ?, enabled = ?, version = ?, doc = ?
             WHERE project_id = ? AND id = ?`,
          )
          .run(
            rule.name,
            rule.enabled ? 1 : 0,
            rule.version,
            JSON.stringify(rule),
            rule.projectId,
            rule.id,
          ).changes
      } catch (error) {
        this.#conflict(rule, error)
      }
      if (changes === 0)
        throw new OpenCtsError('OCTS_ERR_ALARM_NOT_FOUND', { message: `no alarm ${rule.id}` })
      this.#record(transition, deliveries)
    })
  }

  deleteAlarm(projectId: string, id: string, audit: readonly TraceRecord[]): Promise<boolean> {
    return this.#write(audit, () => {
      this.#db
        .prepare('DELETE FROM alarm_history WHERE project_id = ? AND alarm_id = ?')
        .run(projectId, id)
      return (
        this.#db
          .prepare('DELETE FROM alarm_rules WHERE project_id = ? AND id = ?')
          .run(projectId, id).changes > 0
      )
    })
  }

  getAlarm(projectId: string, id: string): Promise<AlarmRule | undefined> {
    return run('read', () => {
      const row = this.#db
        .prepare('SELECT doc FROM alarm_rules WHERE project_id = ? AND id = ?')
        .get(projectId, id) as { doc: string } | undefined
      return row === undefined ? undefined : (JSON.parse(row.doc) as AlarmRule)
    })
  }

  listAlarms(projectId: string): Promise<AlarmRule[]> {
    return run('read', () =>
      parse<AlarmRule>(
        this.#db
          .prepare('SELECT doc FROM alarm_rules WHERE project_id = ? ORDER BY name')
          .all(projectId) as { doc: string }[],
      ),
    )
  }

  countAlarms(projectId: string): Promise<number> {
    return run(
      'read',
      () =>
        (
          this.#db
            .prepare('SELECT count(*) AS n FROM alarm_rules WHERE project_id = ?')
            .get(projectId) as { n: number }
        ).n,
    )
  }

  enabledAlarms(after: AlarmKey | null, limit: number): Promise<AlarmRule[]> {
    return run('read', () =>
      parse<AlarmRule>(
        this.#db
          .prepare(
            `SELECT doc FROM alarm_rules WHERE enabled = 1 AND (project_id, id) > (?, ?)
             ORDER BY project_id, id LIMIT ?`,
          )
          .all(after?.projectId ?? '', after?.id ?? '', limit) as { doc: string }[],
      ),
    )
  }

  recordEvaluation(evaluation: AlarmEvaluation): Promise<boolean> {
    return run('write', () =>
      this.#db.transaction(() => {
        const row = this.#db
          .prepare('SELECT doc FROM alarm_rules WHERE project_id = ? AND id = ? AND version = ?')
          .get(evaluation.projectId, evaluation.alarmId, evaluation.version) as
          { doc: string } | undefined
        if (row === undefined) return false
        const rule: AlarmRule = { ...(JSON.parse(row.doc) as AlarmRule), ...evaluation.status }
        this.#db
          .prepare('UPDATE alarm_rules SET doc = ? WHERE project_id = ? AND id = ?')
          .run(JSON.stringify(rule), rule.projectId, rule.id)
        this.#record(evaluation.transition, evaluation.deliveries)
        return true
      })(),
    )
  }

  /** Appends a transition (keeping the newest ALARM_HISTORY_KEEP) and its deliveries. */
  #record(transition: AlarmTransition | null, deliveries: readonly DeliveryRecord[]): void {
    if (transition === null) return
    const { projectId, alarmId } = transition
    this.#db
      .prepare(
        'INSERT INTO alarm_history (project_id, alarm_id, time, id, doc) VALUES (?, ?, ?, ?, ?)',
      )
      .run(projectId, alarmId, transition.time, transition.id, JSON.stringify(transition))
    const oldest = this.#db
      .prepare(
        `SELECT time, id FROM alarm_history WHERE project_id = ? AND alarm_id = ?
         ORDER BY time DESC, id DESC LIMIT 1 OFFSET ?`,
      )
      .get(projectId, alarmId, ALARM_HISTORY_KEEP - 1) as { time: number; id: string } | undefined
    if (oldest !== undefined)
      this.#db
        .prepare(
          `DELETE FROM alarm_history WHERE project_id = ? AND alarm_id = ? AND (time, id) < (?, ?)`,
        )
        .run(projectId, alarmId, oldest.time, oldest.id)
    const insert = this.#db.prepare(INSERT_DELIVERY)
    for (const d of deliveries) insert.run(...deliveryValues(d))
  }

  history(
    projectId: string,
    alarmId: string,
    before: AlarmHistoryCursor | null,
    limit: number,
  ): Promise<AlarmTransition[]> {
    return run('read', () =>
      parse<AlarmTransition>(
        this.#db
          .prepare(
            `SELECT doc FROM alarm_history WHERE project_id = ? AND alarm_id = ?
             AND (time, id) < (?, ?) ORDER BY time DESC, id DESC LIMIT ?`,
          )
          .all(
            projectId,
            alarmId,
            before?.time ?? Number.MAX_SAFE_INTEGER,
            before?.id ?? '',
            limit,
          ) as { doc: string }[],
      ),
    )
  }
}
