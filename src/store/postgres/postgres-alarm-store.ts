/**
 * @module store/postgres/postgres-alarm-store
 * AlarmStore on PostgreSQL: `alarm_rules` and `alarm_history` (schema-alarms.ts), with the SQLite
 * engine's semantics and orders. Each API mutation commits its self-audit traces in its own
 * transaction through the trace append (PgTraceAppender). An evaluation locks the rule's row at
 * the version it evaluated (SELECT … FOR UPDATE), so a concurrent change through the API on any
 * node either comes first (the evaluation is dropped) or waits for it; its transition and the
 * outbox deliveries notifying it commit together.
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
import { isUniqueViolation } from './driver-errors.js'
import type { PgDatabase, PgExecutor, PgTraceAppender } from './pg-database.js'

const INSERT_DELIVERY = `INSERT INTO deliveries (id, project_id, notification_id, trace_id,
  target_kind, target_id, protocol, endpoint, payload, status, attempts, next_attempt_at,
  last_error, created_at, delivered_at)
  SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15
  WHERE NOT EXISTS (SELECT 1 FROM deliveries WHERE id = $1)
  ON CONFLICT DO NOTHING`

const parse = <T>(rows: readonly { doc: string }[]): T[] => rows.map((r) => JSON.parse(r.doc) as T)

export class PostgresAlarmStore implements AlarmStore {
  readonly #db: PgDatabase
  readonly #traces: PgTraceAppender

  constructor(db: PgDatabase, traces: PgTraceAppender) {
    this.#db = db
    this.#traces = traces
  }

  #write<T>(audit: readonly TraceRecord[], fn: (tx: PgExecutor) => Promise<T>): Promise<T> {
    return this.#db.transaction(async (tx) => {
      const result = await fn(tx)
      if (audit.length > 0) await this.#traces.appendIn(tx, audit)
      return result
    })
  }

  insertAlarm(rule: AlarmRule, audit: readonly TraceRecord[]): Promise<void> {
    return this.#write(audit, async (tx) => {
      await uniqueName(
        rule,
        tx.query(
          `INSERT INTO alarm_rules (project_id, id, name, enabled, version, doc)
           VALUES ($1, $2, $3, $4, $5, $6)`,
          [rule.projectId, rule.id, rule.name, rule.enabled, rule.version, JSON.stringify(rule)],
        ),
      )
    })
  }

  updateAlarm(
    rule: AlarmRule,
    audit: readonly TraceRecord[],
    transition: AlarmTransition | null,
    deliveries: readonly DeliveryRecord[],
  ): Promise<void> {
    return this.#write(audit, async (tx) => {
      const result = await uniqueName(
        rule,
        tx.query(
          `UPDATE alarm_rules SET name = $1, enabled = $2, version = $3, doc = $4
           WHERE project_id = $5 AND id = $6`,
          [rule.name, rule.enabled, rule.version, JSON.stringify(rule), rule.projectId, rule.id],
        ),
      )
      if (result.rowCount === 0)
        throw new OpenCtsError('OCTS_ERR_ALARM_NOT_FOUND', { message: `no alarm ${rule.id}` })
      await record(tx, transition, deliveries)
    })
  }

  deleteAlarm(projectId: string, id: string, audit: readonly TraceRecord[]): Promise<boolean> {
    return this.#write(audit, async (tx) => {
      await tx.query('DELETE FROM alarm_history WHERE project_id = $1 AND alarm_id = $2', [
        projectId,
        id,
      ])
      const result = await tx.query('DELETE FROM alarm_rules WHERE project_id = $1 AND id = $2', [
        projectId,
        id,
      ])
      return (result.rowCount ?? 0) > 0
    })
  }

  async getAlarm(projectId: string, id: string): Promise<AlarmRule | undefined> {
    const rows = await this.#db.query<{ doc: string }>(
      'read',
      'SELECT doc FROM alarm_rules WHERE project_id = $1 AND id = $2',
      [projectId, id],
    )
    return parse<AlarmRule>(rows)[0]
  }

  async listAlarms(projectId: string): Promise<AlarmRule[]> {
    return parse<AlarmRule>(
      await this.#db.query<{ doc: string }>(
        'read',
        'SELECT doc FROM alarm_rules WHERE project_id = $1 ORDER BY name',
        [projectId],
      ),
    )
  }

  async countAlarms(projectId: string): Promise<number> {
    const rows = await this.#db.query<{ n: number }>(
      'read',
      'SELECT count(*)::int AS n FROM alarm_rules WHERE project_id = $1',
      [projectId],
    )
    return rows[0]?.n ?? 0
  }

  async enabledAlarms(after: AlarmKey | null, limit: number): Promise<AlarmRule[]> {
    return parse<AlarmRule>(
      await this.#db.query<{ doc: string }>(
        'read',
        `SELECT doc FROM alarm_rules WHERE enabled AND (project_id, id) > ($1, $2)
         ORDER BY project_id, id LIMIT $3`,
        [after?.projectId ?? '', after?.id ?? '', limit],
      ),
    )
  }

  recordEvaluation(evaluation: AlarmEvaluation): Promise<boolean> {
    return this.#db.transaction(async (tx) => {
      const { rows } = await tx.query<{ doc: string }>(
        `SELECT doc FROM alarm_rules WHERE project_id = $1 AND id = $2 AND version = $3
         FOR UPDATE`,
        [evaluation.projectId, evaluation.alarmId, evaluation.version],
      )
      const [stored] = parse<AlarmRule>(rows)
      if (stored === undefined) return false
      const rule: AlarmRule = { ...stored, ...evaluation.status }
      await tx.query('UPDATE alarm_rules SET doc = $1 WHERE project_id = $2 AND id = $3', [
        JSON.stringify(rule),
        rule.projectId,
        rule.id,
      ])
      await record(tx, evaluation.transition, evaluation.deliveries)
      return true
    })
  }

  async history(
    projectId: string,
    alarmId: string,
    before: AlarmHistoryCursor | null,
    limit: number,
  ): Promise<AlarmTransition[]> {
    return parse<AlarmTransition>(
      await this.#db.query<{ doc: string }>(
        'read',
        `SELECT doc FROM alarm_history WHERE project_id = $1 AND alarm_id = $2
         AND (time, id) < ($3, $4) ORDER BY time DESC, id DESC LIMIT $5`,
        [projectId, alarmId, before?.time ?? Number.MAX_SAFE_INTEGER, before?.id ?? '', limit],
      ),
    )
  }
}

/** Turns a unique violation of the rule's query (its name taken) into OCTS_ERR_CONFLICT. */
async function uniqueName<T>(rule: AlarmRule, query: Promise<T>): Promise<T> {
  try {
    return await query
  } catch (error) {
    if (isUniqueViolation(error))
      throw new OpenCtsError('OCTS_ERR_CONFLICT', {
        message: `alarm ${rule.name} exists`,
        cause: error,
      })
    throw error
  }
}

/** Appends a transition (keeping the newest ALARM_HISTORY_KEEP) and its deliveries. */
async function record(
  tx: PgExecutor,
  transition: AlarmTransition | null,
  deliveries: readonly DeliveryRecord[],
): Promise<void> {
  if (transition === null) return
  const { projectId, alarmId } = transition
  await tx.query(
    'INSERT INTO alarm_history (project_id, alarm_id, time, id, doc) VALUES ($1, $2, $3, $4, $5)',
    [projectId, alarmId, transition.time, transition.id, JSON.stringify(transition)],
  )
  await tx.query(
    `DELETE FROM alarm_history WHERE project_id = $1 AND alarm_id = $2 AND (time, id) < (
       SELECT time, id FROM alarm_history WHERE project_id = $1 AND alarm_id = $2
       ORDER BY time DESC, id DESC LIMIT 1 OFFSET $3)`,
    [projectId, alarmId, ALARM_HISTORY_KEEP - 1],
  )
  for (const d of deliveries) await tx.query(INSERT_DELIVERY, deliveryValues(d))
}
