/**
 * @module store/sqlite/sqlite-delivery-store
 * DeliveryStore on SQLite: `smn_topics`, `smn_subscriptions` (deleted with their topic),
 * `functions`, the `deliveries` outbox (due index on status + next attempt) and named `cursors`.
 * `enqueue` inserts deliveries and moves the matcher's cursor in one transaction.
 */
import { OpenCtsError } from '../../errors/index.js'
import type {
  DeliveryRecord,
  DeliveryStatus,
  DeliveryStore,
  FunctionRecord,
  SubscriptionRecord,
  TopicRecord,
} from '../store.js'
import { deliveryValues } from '../rows.js'
import { isUniqueViolation, run } from './driver-errors.js'
import type { SqliteDatabase } from './sqlite-database.js'

const MATCHER_CURSOR = 'delivery-matcher'

const TOPIC = 'SELECT urn, project_id AS projectId, name, created_at AS createdAt FROM smn_topics'
const SUBSCRIPTION = `SELECT id, topic_urn AS topicUrn, project_id AS projectId, protocol, endpoint,
  sealed_secret AS sealedSecret, created_at AS createdAt FROM smn_subscriptions`
const FUNCTION = `SELECT urn, project_id AS projectId, endpoint, sealed_secret AS sealedSecret,
  created_at AS createdAt FROM functions`
const DELIVERY = `SELECT id, project_id AS projectId, notification_id AS notificationId,
  trace_id AS traceId, target_kind AS targetKind, target_id AS targetId, protocol, endpoint, payload,
  status, attempts, next_attempt_at AS nextAttemptAt, last_error AS lastError,
  created_at AS createdAt, delivered_at AS deliveredAt FROM deliveries`

export class SqliteDeliveryStore implements DeliveryStore {
  readonly #db: SqliteDatabase

  constructor(db: SqliteDatabase) {
    this.#db = db
  }

  insertTopic(topic: TopicRecord): Promise<void> {
    return run('write', () => {
      try {
        this.#db
          .prepare('INSERT INTO smn_topics (urn, project_id, name, created_at) VALUES (?, ?, ?, ?)')
          .run(topic.urn, topic.projectId, topic.name, topic.createdAt)
      } catch (error) {
        if (isUniqueViolation(error))
          throw new OpenCtsError('OCTS_ERR_CONFLICT', { message: `topic ${topic.urn} exists` })
        throw error
      }
    })
  }

  listTopics(projectId: string): Promise<TopicRecord[]> {
    return run(
      'read',
      () =>
        this.#db
          .prepare(`${TOPIC} WHERE project_id = ? ORDER BY name`)
          .all(projectId) as TopicRecord[],
    )
  }

  getTopic(urn: string): Promise<TopicRecord | undefined> {
    return run(
      'read',
      () => this.#db.prepare(`${TOPIC} WHERE urn = ?`).get(urn) as TopicRecord | undefined,
    )
  }

  deleteTopic(projectId: string, urn: string): Promise<boolean> {
    return run('write', () =>
      this.#db.transaction(() => {
        this.#db.prepare('DELETE FROM smn_subscriptions WHERE topic_urn = ?').run(urn)
        return (
          this.#db
            .prepare('DELETE FROM smn_topics WHERE urn = ? AND project_id = ?')
            .run(urn, projectId).changes > 0
        )
      })(),
    )
  }

  insertSubscription(s: SubscriptionRecord): Promise<void> {
    return run('write', () => {
      this.#db
        .prepare(
          `INSERT INTO smn_subscriptions (id, topic_urn, project_id, protocol, endpoint,
             sealed_secret, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(s.id, s.topicUrn, s.projectId, s.protocol, s.endpoint, s.sealedSecret, s.createdAt)
    })
  }

  listSubscriptions(topicUrn: string): Promise<SubscriptionRecord[]> {
    return run(
      'read',
      () =>
        this.#db
          .prepare(`${SUBSCRIPTION} WHERE topic_urn = ? ORDER BY created_at, id`)
          .all(topicUrn) as SubscriptionRecord[],
    )
  }

  getSubscription(id: string): Promise<SubscriptionRecord | undefined> {
    return run(
      'read',
      () =>
        this.#db.prepare(`${SUBSCRIPTION} WHERE id = ?`).get(id) as SubscriptionRecord | undefined,
    )
  }

  deleteSubscription(projectId: string, id: string): Promise<boolean> {
    return run(
      'write',
      () =>
        this.#db
          .prepare('DELETE FROM smn_subscriptions WHERE id = ? AND project_id = ?')
          .run(id, projectId).changes > 0,
    )
  }

  putFunction(fn: FunctionRecord): Promise<void> {
    return run('write', () => {
      this.#db
        .prepare(
          `INSERT INTO functions (urn, project_id, endpoint, sealed_secret, created_at)
           VALUES (?, ?, ?, ?, ?) ON CONFLICT (urn) DO UPDATE SET endpoint = excluded.endpoint,
           sealed_secret = excluded.sealed_secret, project_id = excluded.project_id`,
        )
        .run(fn.urn, fn.projectId, fn.endpoint, fn.sealedSecret, fn.createdAt)
    })
  }

  getFunction(urn: string): Promise<FunctionRecord | undefined> {
    return run(
      'read',
      () => this.#db.prepare(`${FUNCTION} WHERE urn = ?`).get(urn) as FunctionRecord | undefined,
    )
  }

  listFunctions(projectId: string): Promise<FunctionRecord[]> {
    return run(
      'read',
      () =>
        this.#db
          .prepare(`${FUNCTION} WHERE project_id = ? ORDER BY urn`)
          .all(projectId) as FunctionRecord[],
    )
  }

  deleteFunction(projectId: string, urn: string): Promise<boolean> {
    return run(
      'write',
      () =>
        this.#db
          .prepare('DELETE FROM functions WHERE urn = ? AND project_id = ?')
          .run(urn, projectId).changes > 0,
    )
  }

  deliveryCursor(): Promise<number | undefined> {
    return this.getCursor(MATCHER_CURSOR)
  }

  enqueue(cursor: number, deliveries: readonly DeliveryRecord[]): Promise<void> {
    return run('write', () =>
      this.#db.transaction(() => {
        const insert = this.#db.prepare(
          `INSERT OR IGNORE INTO deliveries (id, project_id, notification_id, trace_id, target_kind,
             target_id, protocol, endpoint, payload, status, attempts, next_attempt_at, last_error,
             created_at, delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        for (const d of deliveries) insert.run(...deliveryValues(d))
        this.#setCursor(MATCHER_CURSOR, cursor)
      })(),
    )
  }

  dueDeliveries(now: number, limit: number): Promise<DeliveryRecord[]> {
    return run(
      'read',
      () =>
        this.#db
          .prepare(
            `${DELIVERY} WHERE status = 'pending' AND next_attempt_at <= ?
             ORDER BY next_attempt_at, created_at, id LIMIT ?`,
          )
          .all(now, limit) as DeliveryRecord[],
    )
  }

  nextDueAt(): Promise<number | undefined> {
    return run('read', () => {
      const row = this.#db
        .prepare("SELECT MIN(next_attempt_at) AS at FROM deliveries WHERE status = 'pending'")
        .get() as { at: number | null }
      return row.at ?? undefined
    })
  }

  markDelivered(id: string, attempts: number, at: number): Promise<void> {
    return run('write', () => {
      this.#db
        .prepare(
          `UPDATE deliveries SET status = 'delivered', attempts = ?, delivered_at = ?,
           last_error = NULL WHERE id = ?`,
        )
        .run(attempts, at, id)
    })
  }

  markFailed(
    id: string,
    attempts: number,
    nextAttemptAt: number | null,
    error: string,
  ): Promise<void> {
    return run('write', () => {
      this.#db
        .prepare(
          `UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = COALESCE(?, next_attempt_at),
           last_error = ? WHERE id = ?`,
        )
        .run(nextAttemptAt === null ? 'dead' : 'pending', attempts, nextAttemptAt, error, id)
    })
  }

  listDeliveries(
    projectId: string,
    status: DeliveryStatus | undefined,
    limit: number,
  ): Promise<DeliveryRecord[]> {
    return run('read', () =>
      status === undefined
        ? (this.#db
            .prepare(`${DELIVERY} WHERE project_id = ? ORDER BY created_at DESC, id LIMIT ?`)
            .all(projectId, limit) as DeliveryRecord[])
        : (this.#db
            .prepare(
              `${DELIVERY} WHERE project_id = ? AND status = ? ORDER BY created_at DESC, id LIMIT ?`,
            )
            .all(projectId, status, limit) as DeliveryRecord[]),
    )
  }

  getDelivery(projectId: string, id: string): Promise<DeliveryRecord | undefined> {
    return run(
      'read',
      () =>
        this.#db.prepare(`${DELIVERY} WHERE project_id = ? AND id = ?`).get(projectId, id) as
          DeliveryRecord | undefined,
    )
  }

  redeliver(projectId: string, id: string, now: number): Promise<boolean> {
    return run(
      'write',
      () =>
        this.#db
          .prepare(
            `UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?,
             delivered_at = NULL WHERE project_id = ? AND id = ?`,
          )
          .run(now, projectId, id).changes > 0,
    )
  }

  deliveryCounts(): Promise<Record<DeliveryStatus, number>> {
    return run('read', () => {
      const counts: Record<DeliveryStatus, number> = { pending: 0, delivered: 0, dead: 0 }
      const rows = this.#db
        .prepare('SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status')
        .all() as { status: DeliveryStatus; n: number }[]
      for (const row of rows) counts[row.status] = row.n
      return counts
    })
  }

  purgeDeliveries(time: number): Promise<number> {
    return run(
      'write',
      () =>
        this.#db
          .prepare("DELETE FROM deliveries WHERE status != 'pending' AND created_at < ?")
          .run(time).changes,
    )
  }

  getCursor(name: string): Promise<number | undefined> {
    return run('read', () => {
      const row = this.#db.prepare('SELECT seq FROM cursors WHERE name = ?').get(name) as
        { seq: number } | undefined
      return row?.seq
    })
  }

  setCursor(name: string, seq: number): Promise<void> {
    return run('write', () => this.#setCursor(name, seq))
  }

  #setCursor(name: string, seq: number): void {
    this.#db
      .prepare(
        'INSERT INTO cursors (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq',
      )
      .run(name, seq)
  }
}
