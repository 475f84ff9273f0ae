/**
 * @module store/postgres/postgres-delivery-store
 * DeliveryStore on PostgreSQL: `smn_topics`, `smn_subscriptions` (deleted with their topic by the
 * foreign key), `functions`, the `deliveries` outbox and named `cursors` (schema-delivery.ts), with
 * the SQLite engine's semantics and orders. `enqueue` inserts the deliveries (a known id is ignored,
 * so a repeat after a crash or by another node is harmless) and moves the matcher's cursor in one
 * transaction. Background writers (matcher, sender) run under a lease, so each call needs no lock
 * beyond its own transaction.
 */
import { isOpenCtsError, OpenCtsError } from '../../errors/index.js'
import type {
  DeliveryRecord,
  DeliveryStatus,
  DeliveryStore,
  FunctionRecord,
  SubscriptionRecord,
  TopicRecord,
} from '../store.js'
import { deliveryValues } from '../rows.js'
import { isUniqueViolation } from './driver-errors.js'
import type { PgDatabase } from './pg-database.js'

const MATCHER_CURSOR = 'delivery-matcher'

const TOPIC =
  'SELECT urn, project_id AS "projectId", name, created_at AS "createdAt" FROM smn_topics'
const SUBSCRIPTION = `SELECT id, topic_urn AS "topicUrn", project_id AS "projectId", protocol,
  endpoint, sealed_secret AS "sealedSecret", created_at AS "createdAt" FROM smn_subscriptions`
const FUNCTION = `SELECT urn, project_id AS "projectId", endpoint, sealed_secret AS "sealedSecret",
  created_at AS "createdAt" FROM functions`
const DELIVERY = `SELECT id, project_id AS "projectId", notification_id AS "notificationId",
  trace_id AS "traceId", target_kind AS "targetKind", target_id AS "targetId", protocol, endpoint,
  payload, status, attempts, next_attempt_at AS "nextAttemptAt", last_error AS "lastError",
  created_at AS "createdAt", delivered_at AS "deliveredAt" FROM deliveries`

/** The columns of `deliveries` in insert order, with the array type `enqueue` sends each as. */
const DELIVERY_COLUMNS = [
  ['id', 'text'],
  ['project_id', 'text'],
  ['notification_id', 'text'],
  ['trace_id', 'text'],
  ['target_kind', 'text'],
  ['target_id', 'text'],
  ['protocol', 'text'],
  ['endpoint', 'text'],
  ['payload', 'text'],
  ['status', 'text'],
  ['attempts', 'integer'],
  ['next_attempt_at', 'bigint'],
  ['last_error', 'text'],
  ['created_at', 'bigint'],
  ['delivered_at', 'bigint'],
] as const

const ENQUEUE = `INSERT INTO deliveries (${DELIVERY_COLUMNS.map(([c]) => c).join(', ')})
  SELECT u.* FROM unnest(${DELIVERY_COLUMNS.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ')})
    AS u (${DELIVERY_COLUMNS.map(([c]) => c).join(', ')})
  WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = u.id)
  ON CONFLICT DO NOTHING`

const SET_CURSOR =
  'INSERT INTO cursors (name, seq) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq'

export class PostgresDeliveryStore implements DeliveryStore {
  readonly #db: PgDatabase

  constructor(db: PgDatabase) {
    this.#db = db
  }

  async insertTopic(topic: TopicRecord): Promise<void> {
    let inserted: { urn: string }[]
    try {
      // A URN is refused when stored under any project, as the embedded engine's key is the URN.
      inserted = await this.#db.query<{ urn: string }>(
        'write',
        `INSERT INTO smn_topics (urn, project_id, name, created_at)
         SELECT $1::text, $2::text, $3::text, $4::bigint WHERE NOT EXISTS (SELECT 1 FROM smn_topics WHERE urn = $1)
         RETURNING urn`,
        [topic.urn, topic.projectId, topic.name, topic.createdAt],
      )
    } catch (error) {
      if (isOpenCtsError(error) && isUniqueViolation(error.cause)) inserted = []
      else throw error
    }
    if (inserted.length === 0)
      throw new OpenCtsError('OCTS_ERR_CONFLICT', { message: `topic ${topic.urn} exists` })
  }

  listTopics(projectId: string): Promise<TopicRecord[]> {
    return this.#db.query<TopicRecord>('read', `${TOPIC} WHERE project_id = $1 ORDER BY name`, [
      projectId,
    ])
  }

  async getTopic(urn: string): Promise<TopicRecord | undefined> {
    return (await this.#db.query<TopicRecord>('read', `${TOPIC} WHERE urn = $1`, [urn]))[0]
  }

  async deleteTopic(projectId: string, urn: string): Promise<boolean> {
    // Its subscriptions go with it (ON DELETE CASCADE), in the same statement.
    const rows = await this.#db.query(
      'write',
      'DELETE FROM smn_topics WHERE project_id = $1 AND urn = $2 RETURNING urn',
      [projectId, urn],
    )
    return rows.length > 0
  }

  async insertSubscription(s: SubscriptionRecord): Promise<void> {
    await this.#db.query(
      'write',
      `INSERT INTO smn_subscriptions (id, topic_urn, project_id, protocol, endpoint, sealed_secret,
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [s.id, s.topicUrn, s.projectId, s.protocol, s.endpoint, s.sealedSecret, s.createdAt],
    )
  }

  listSubscriptions(topicUrn: string): Promise<SubscriptionRecord[]> {
    return this.#db.query<SubscriptionRecord>(
      'read',
      `${SUBSCRIPTION} WHERE topic_urn = $1 ORDER BY created_at, id`,
      [topicUrn],
    )
  }

  async getSubscription(id: string): Promise<SubscriptionRecord | undefined> {
    return (
      await this.#db.query<SubscriptionRecord>('read', `${SUBSCRIPTION} WHERE id = $1`, [id])
    )[0]
  }

  async deleteSubscription(projectId: string, id: string): Promise<boolean> {
    const rows = await this.#db.query(
      'write',
      'DELETE FROM smn_subscriptions WHERE project_id = $1 AND id = $2 RETURNING id',
      [projectId, id],
    )
    return rows.length > 0
  }

  putFunction(fn: FunctionRecord): Promise<void> {
    // The binding of a URN is replaced wherever it is stored (its creation time kept), as the
    // embedded engine's upsert on the URN does.
    return this.#db.transaction(async (tx) => {
      const updated = await tx.query(
        'UPDATE functions SET project_id = $2, endpoint = $3, sealed_secret = $4 WHERE urn = $1',
        [fn.urn, fn.projectId, fn.endpoint, fn.sealedSecret],
      )
      if (updated.rowCount !== 0) return
      await tx.query(
        `INSERT INTO functions (urn, project_id, endpoint, sealed_secret, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id, urn) DO UPDATE SET
         endpoint = excluded.endpoint, sealed_secret = excluded.sealed_secret`,
        [fn.urn, fn.projectId, fn.endpoint, fn.sealedSecret, fn.createdAt],
      )
    })
  }

  async getFunction(urn: string): Promise<FunctionRecord | undefined> {
    return (await this.#db.query<FunctionRecord>('read', `${FUNCTION} WHERE urn = $1`, [urn]))[0]
  }

  listFunctions(projectId: string): Promise<FunctionRecord[]> {
    return this.#db.query<FunctionRecord>(
      'read',
      `${FUNCTION} WHERE project_id = $1 ORDER BY urn`,
      [projectId],
    )
  }

  async deleteFunction(projectId: string, urn: string): Promise<boolean> {
    const rows = await this.#db.query(
      'write',
      'DELETE FROM functions WHERE project_id = $1 AND urn = $2 RETURNING urn',
      [projectId, urn],
    )
    return rows.length > 0
  }

  deliveryCursor(): Promise<number | undefined> {
    return this.getCursor(MATCHER_CURSOR)
  }

  enqueue(cursor: number, deliveries: readonly DeliveryRecord[]): Promise<void> {
    return this.#db.transaction(async (tx) => {
      if (deliveries.length > 0) {
        const rows = deliveries.map(deliveryValues)
        await tx.query(
          ENQUEUE,
          DELIVERY_COLUMNS.map((_, i) => rows.map((row) => row[i])),
        )
      }
      await tx.query(SET_CURSOR, [MATCHER_CURSOR, cursor])
    })
  }

  dueDeliveries(now: number, limit: number): Promise<DeliveryRecord[]> {
    return this.#db.query<DeliveryRecord>(
      'read',
      `${DELIVERY} WHERE status = 'pending' AND next_attempt_at <= $1
       ORDER BY next_attempt_at, created_at, id LIMIT $2`,
      [now, limit],
    )
  }

  async nextDueAt(): Promise<number | undefined> {
    const rows = await this.#db.query<{ at: number | null }>(
      'read',
      "SELECT min(next_attempt_at) AS at FROM deliveries WHERE status = 'pending'",
    )
    return rows[0]?.at ?? undefined
  }

  async markDelivered(id: string, attempts: number, at: number): Promise<void> {
    await this.#db.query(
      'write',
      `UPDATE deliveries SET status = 'delivered', attempts = $1, delivered_at = $2,
       last_error = NULL WHERE id = $3`,
      [attempts, at, id],
    )
  }

  async markFailed(
    id: string,
    attempts: number,
    nextAttemptAt: number | null,
    error: string,
  ): Promise<void> {
    await this.#db.query(
      'write',
      `UPDATE deliveries SET status = $1, attempts = $2,
       next_attempt_at = COALESCE($3::bigint, next_attempt_at), last_error = $4 WHERE id = $5`,
      [nextAttemptAt === null ? 'dead' : 'pending', attempts, nextAttemptAt, error, id],
    )
  }

  listDeliveries(
    projectId: string,
    status: DeliveryStatus | undefined,
    limit: number,
  ): Promise<DeliveryRecord[]> {
    return status === undefined
      ? this.#db.query<DeliveryRecord>(
          'read',
          `${DELIVERY} WHERE project_id = $1 ORDER BY created_at DESC, id LIMIT $2`,
          [projectId, limit],
        )
      : this.#db.query<DeliveryRecord>(
          'read',
          `${DELIVERY} WHERE project_id = $1 AND status = $2 ORDER BY created_at DESC, id LIMIT $3`,
          [projectId, status, limit],
        )
  }

  async getDelivery(projectId: string, id: string): Promise<DeliveryRecord | undefined> {
    return (
      await this.#db.query<DeliveryRecord>(
        'read',
        `${DELIVERY} WHERE project_id = $1 AND id = $2`,
        [projectId, id],
      )
    )[0]
  }

  async redeliver(projectId: string, id: string, now: number): Promise<boolean> {
    const rows = await this.#db.query(
      'write',
      `UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1,
       delivered_at = NULL WHERE project_id = $2 AND id = $3 RETURNING id`,
      [now, projectId, id],
    )
    return rows.length > 0
  }

  async deliveryCounts(): Promise<Record<DeliveryStatus, number>> {
    const counts: Record<DeliveryStatus, number> = { pending: 0, delivered: 0, dead: 0 }
    const rows = await this.#db.query<{ status: DeliveryStatus; n: number }>(
      'read',
      'SELECT status, count(*)::integer AS n FROM deliveries GROUP BY status',
    )
    for (const row of rows) counts[row.status] = row.n
    return counts
  }

  async purgeDeliveries(time: number): Promise<number> {
    const rows = await this.#db.query<{ n: number }>(
      'write',
      `WITH gone AS (DELETE FROM deliveries WHERE status <> 'pending' AND created_at < $1
       RETURNING 1) SELECT count(*)::integer AS n FROM gone`,
      [time],
    )
    return rows[0]?.n ?? 0
  }

  async getCursor(name: string): Promise<number | undefined> {
    const rows = await this.#db.query<{ seq: number }>(
      'read',
      'SELECT seq FROM cursors WHERE name = $1',
      [name],
    )
    return rows[0]?.seq
  }

  async setCursor(name: string, seq: number): Promise<void> {
    await this.#db.query('write', SET_CURSOR, [name, seq])
  }
}
