/**
 * @module store/ports/delivery
 * The delivery port: topics, subscriptions, function endpoints, the outbox and named consumer cursors.
 */

/**
 * A topic (SMN equivalent) notifications send to; its subscriptions are the endpoints. `urn` is
 * `urn:smn:{region}:{project_id}:{name}`.
 */
export interface TopicRecord {
  readonly urn: string
  readonly projectId: string
  readonly name: string
  readonly createdAt: number
}

export type SubscriptionProtocol = 'http' | 'https' | 'email'

/** An endpoint of a topic: a URL (http/https) or an address (email). */
export interface SubscriptionRecord {
  readonly id: string
  readonly topicUrn: string
  readonly projectId: string
  readonly protocol: SubscriptionProtocol
  readonly endpoint: string
  /** The HMAC-SHA256 signing secret, sealed with the server master key. */
  readonly sealedSecret: string
  readonly createdAt: number
}

/** A function URN (`urn:fss:…`) bound to the HTTP(S) endpoint that runs it. */
export interface FunctionRecord {
  readonly urn: string
  readonly projectId: string
  readonly endpoint: string
  readonly sealedSecret: string
  readonly createdAt: number
}

export type DeliveryStatus = 'pending' | 'delivered' | 'dead'

/** One notification of one trace to one endpoint, from enqueue to delivery or dead letter. */
export interface DeliveryRecord {
  /** Stable: the same (trace, notification, endpoint) always has the same id. */
  readonly id: string
  readonly projectId: string
  readonly notificationId: string
  readonly traceId: string
  /** `subscription` (topic endpoint) or `function`. */
  readonly targetKind: 'subscription' | 'function'
  /** The subscription id or function URN. */
  readonly targetId: string
  readonly protocol: SubscriptionProtocol
  readonly endpoint: string
  /** The exact body sent (JSON text). */
  readonly payload: string
  readonly status: DeliveryStatus
  readonly attempts: number
  /** When the next attempt is due (ms); meaningful while pending. */
  readonly nextAttemptAt: number
  readonly lastError: string | null
  readonly createdAt: number
  readonly deliveredAt: number | null
}

/**
 * Notification topics, subscriptions, function endpoints, and the delivery outbox with the
 * matcher's cursor. Enqueueing and moving the cursor are one transaction, so a crash never loses a
 * matched trace nor enqueues it twice (delivery ids are stable; a repeat is ignored).
 */
export interface DeliveryStore {
  /** Throws OCTS_ERR_CONFLICT if the URN exists. */
  insertTopic(topic: TopicRecord): Promise<void>
  /** Sorted by name. */
  listTopics(projectId: string): Promise<TopicRecord[]>
  getTopic(urn: string): Promise<TopicRecord | undefined>
  /** Deletes the topic and its subscriptions; false when it did not exist. */
  deleteTopic(projectId: string, urn: string): Promise<boolean>
  insertSubscription(subscription: SubscriptionRecord): Promise<void>
  /** Subscriptions of a topic, by creation time then id. */
  listSubscriptions(topicUrn: string): Promise<SubscriptionRecord[]>
  getSubscription(id: string): Promise<SubscriptionRecord | undefined>
  deleteSubscription(projectId: string, id: string): Promise<boolean>
  /** Inserts or replaces the binding of a function URN. */
  putFunction(fn: FunctionRecord): Promise<void>
  getFunction(urn: string): Promise<FunctionRecord | undefined>
  /** Sorted by URN. */
  listFunctions(projectId: string): Promise<FunctionRecord[]>
  deleteFunction(projectId: string, urn: string): Promise<boolean>

  /**
   * The matcher's cursor (highest trace seq matched); undefined before the first run (never set),
   * which is not the same as 0 (set on an empty store: every trace since is still to match).
   */
  deliveryCursor(): Promise<number | undefined>
  /** In one transaction: inserts the deliveries (ignoring ids already stored) and sets the cursor. */
  enqueue(cursor: number, deliveries: readonly DeliveryRecord[]): Promise<void>
  /** Pending deliveries due at `now`, oldest due first, at most `limit`. */
  dueDeliveries(now: number, limit: number): Promise<DeliveryRecord[]>
  /** The earliest `nextAttemptAt` of a pending delivery, or undefined when none is pending. */
  nextDueAt(): Promise<number | undefined>
  markDelivered(id: string, attempts: number, at: number): Promise<void>
  /** Records a failed attempt: pending again at `nextAttemptAt`, or `dead` when that is null. */
  markFailed(
    id: string,
    attempts: number,
    nextAttemptAt: number | null,
    error: string,
  ): Promise<void>
  /** The project's deliveries, newest first, optionally of one status, at most `limit`. */
  listDeliveries(
    projectId: string,
    status: DeliveryStatus | undefined,
    limit: number,
  ): Promise<DeliveryRecord[]>
  getDelivery(projectId: string, id: string): Promise<DeliveryRecord | undefined>
  /** Makes a delivery pending again, due at `now`, attempts reset; false when unknown. */
  redeliver(projectId: string, id: string, now: number): Promise<boolean>
  /** Counts by status (the outbox depth is `pending`). */
  deliveryCounts(): Promise<Record<DeliveryStatus, number>>
  /** Deletes delivered and dead deliveries created before `time`; returns the count. */
  purgeDeliveries(time: number): Promise<number>

  /**
   * A named cursor of another durable consumer (log streams); undefined when never set, which is
   * not the same as 0 (set on an empty store: every trace since is still to be consumed).
   */
  getCursor(name: string): Promise<number | undefined>
  setCursor(name: string, seq: number): Promise<void>
}
