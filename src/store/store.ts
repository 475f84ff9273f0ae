/**
 * @module store/store
 * The storage ports. Shaped by what callers need (append a batch, page newest-first by a filter, get
 * by id, purge before a time, read from a cursor), not by tables, so that another engine (PostgreSQL,
 * compressed blocks) can replace SQLite without touching ingest, query or http.
 *
 * Every implementation passes `test/store-contract.ts`. Errors leave a store only as `OpenCtsError`:
 * - `OCTS_ERR_STORE_CONFLICT` (retryable, e.g. SQLITE_BUSY),
 * - `OCTS_ERR_STORAGE_FULL` (retryable: the disk is full; nothing of the write was stored),
 * - `OCTS_ERR_CONFLICT` (a unique key was taken by a concurrent writer).
 */
import type { StorageCondition } from '../platform/storage-condition.js'
import type {
  Notification,
  TraceCategory,
  TraceRating,
  TraceRecord,
  Tracker,
  TrackerErrorDetail,
  TrackerType,
} from '../model/index.js'
import type {
  AccessKey,
  AccessKeyStatus,
  Account,
  PolicyGrant,
  Project,
  TokenRecord,
  User,
} from '../auth/identity.js'

/** Filter of a trace page. Every string filter is an exact, case-sensitive match. */
export interface TraceFilter {
  readonly projectId: string
  /** Exclusive lower bound on `time` (ms). */
  readonly from: number
  /** Exclusive upper bound on `time` (ms). */
  readonly to: number
  readonly category: TraceCategory
  readonly trackerName?: string
  readonly serviceType?: string
  readonly resourceType?: string
  readonly resourceId?: string
  readonly resourceName?: string
  readonly traceName?: string
  readonly traceRating?: TraceRating
  readonly userName?: string
  readonly accessKeyId?: string
  readonly enterpriseProjectId?: string
}

/**
 * Position in the newest-first order: the page continues strictly after the trace `traceId` (a
 * previous page's marker). Ties on `time` are broken by commit order, newest first.
 */
export interface PageCursor {
  readonly traceId: string
}

/** Counts of the traces matching a filter, per interval and per operation (the activity chart). */
export interface TraceActivity {
  /** Non-empty intervals only: `index` i covers [start + i * step, start + (i + 1) * step). */
  readonly buckets: { index: number; normal: number; warning: number; incident: number }[]
  /** The largest operations, by count (then service, then name). */
  readonly operations: {
    serviceType: string
    traceName: string
    count: number
    warning: number
    incident: number
  }[]
  readonly total: number
}

export interface TracePage {
  readonly traces: TraceRecord[]
  /** True when at least one more trace matches after the last one returned. */
  readonly hasMore: boolean
}

export interface AppendResult {
  /** Ids stored by this call. */
  readonly inserted: string[]
  /** Ids that were already stored (idempotent re-report); not stored again. */
  readonly duplicates: string[]
  /**
   * The leaf index in its project's Merkle log of every trace of the batch (new and already
   * stored), by trace id; null for a trace stored while the log was off. Empty when the log is off.
   */
  readonly leafIndexes: ReadonlyMap<string, number | null>
}

/** A committed trace with its position in the store's commit order (for downstream cursors). */
export interface SequencedTrace {
  readonly seq: number
  readonly trace: TraceRecord
}

export interface CatalogueEntry {
  readonly service_type: string
  readonly resource_type: string
  readonly trace_name: string
}

export interface TraceStore {
  /**
   * Stores a batch in one durable transaction: either every new trace is stored or none is.
   * A `trace_id` already stored is skipped (reported in `duplicates`), as is a repeat within the batch.
   * When the promise resolves the traces are durable and visible to `page` and `get`.
   */
  append(traces: readonly TraceRecord[]): Promise<AppendResult>
  /**
   * Returns up to `limit` traces matching `filter`, newest first, strictly after `after` when given.
   * Throws OCTS_ERR_QUERY when `after` is not a stored trace of the project.
   */
  page(filter: TraceFilter, after: PageCursor | null, limit: number): Promise<TracePage>
  /** The trace with this id in this project, or undefined. */
  /**
   * Counts the traces matching `filter` per `step` ms from `start` by rating, and per operation
   * (the `top` largest), in the store (never loading the traces).
   */
  activity(filter: TraceFilter, start: number, step: number, top: number): Promise<TraceActivity>
  get(projectId: string, traceId: string): Promise<TraceRecord | undefined>
  /** Deletes traces whose `time` is before `time`, at most `maxRows` per call; returns the count. */
  purgeBefore(time: number, maxRows: number): Promise<number>
  /**
   * Committed traces with `seq > afterSeq`, in commit order, at most `limit`; with `scope`, only
   * those of `scope.projectId` with `seq <= scope.maxSeq`. The bound keeps one call's scan short
   * when the project has few traces among many (callers walk the sequence window by window).
   */
  readFrom(
    afterSeq: number,
    limit: number,
    scope?: { readonly projectId: string; readonly maxSeq: number },
  ): Promise<SequencedTrace[]>
  /** The highest `seq` ever committed (0 for an empty store); never goes backwards. */
  headSeq(): Promise<number>
  /** Distinct operator names of the project seen at or after `since` (ms), sorted. */
  operators(projectId: string, since: number): Promise<string[]>
  /** Distinct (service, resource type, trace name) seen in the project, sorted. */
  catalogue(projectId: string): Promise<CatalogueEntry[]>
}

export interface TrackerQuery {
  readonly name?: string
  readonly type?: TrackerType
}

export interface Tag {
  readonly key: string
  readonly value: string
}

/**
 * Configuration: projects, trackers, notifications, tags. Every mutation takes the self-audit traces
 * describing it and commits them in the same transaction as the change, so a change is never
 * without its audit record.
 */
export interface ConfigStore {
  /**
   * Registers a project on first use. When (and only when) the project is new, `onNew()` supplies the
   * management tracker and its audit traces, which are committed with the registration.
   * Returns true when the project was new.
   */
  ensureProject(
    projectId: string,
    now: number,
    onNew: () => { tracker: Tracker; audit: TraceRecord[] },
  ): Promise<boolean>
  listTrackers(projectId: string, query?: TrackerQuery): Promise<Tracker[]>
  /** Every tracker of every project, sorted by (project, tracker name). */
  listAllTrackers(): Promise<Tracker[]>
  /**
   * Sets the delivery health of a tracker found by id: `error` with a detail, or back to `enabled`
   * (detail removed). A `disabled` tracker is left unchanged. Returns the tracker as stored after
   * the call, or undefined if it is gone. Not self-audited: this is the service's own state.
   */
  setTrackerHealth(
    trackerId: string,
    health: { status: 'enabled' } | { status: 'error'; detail: TrackerErrorDetail },
  ): Promise<Tracker | undefined>
  /** Throws OCTS_ERR_CONFLICT if (project, tracker_name) exists. */
  insertTracker(tracker: Tracker, audit: readonly TraceRecord[]): Promise<void>
  /** Replaces the tracker with the same id. Throws OCTS_ERR_TRACKER_NOT_FOUND if it is gone. */
  updateTracker(tracker: Tracker, audit: readonly TraceRecord[]): Promise<void>
  /** Deletes the trackers (and their tags); returns how many existed. */
  deleteTrackers(
    projectId: string,
    ids: readonly string[],
    audit: readonly TraceRecord[],
  ): Promise<number>
  listNotifications(projectId: string): Promise<Notification[]>
  /** How many notifications of any project are enabled with a topic (cheap: asked per commit). */
  countActiveNotifications(): Promise<number>
  /** Throws OCTS_ERR_NOTIFICATION_EXISTS if (project, notification_name) exists. */
  insertNotification(notification: Notification, audit: readonly TraceRecord[]): Promise<void>
  /** Replaces by id. Throws OCTS_ERR_NOTIFICATION_NOT_FOUND if gone, OCTS_ERR_NOTIFICATION_EXISTS on a name clash. */
  updateNotification(notification: Notification, audit: readonly TraceRecord[]): Promise<void>
  /** Deletes notifications by id; returns how many existed. */
  deleteNotifications(
    projectId: string,
    ids: readonly string[],
    audit: readonly TraceRecord[],
  ): Promise<number>
  /** Tags of one resource, sorted by key. */
  getTags(projectId: string, resourceType: string, resourceId: string): Promise<Tag[]>
  /** Every tag of the project's resources of a type, with the resource id, sorted by (resource, key). */
  listTags(projectId: string, resourceType: string): Promise<(Tag & { resourceId: string })[]>
  /** Adds or overwrites tags by key. */
  putTags(
    projectId: string,
    resourceType: string,
    resourceId: string,
    tags: readonly Tag[],
    audit: readonly TraceRecord[],
  ): Promise<void>
  /** Deletes tags by key (and value, when the value given is not undefined). */
  deleteTags(
    projectId: string,
    resourceType: string,
    resourceId: string,
    tags: readonly { key: string; value?: string }[],
    audit: readonly TraceRecord[],
  ): Promise<void>
}

/**
 * Identity: accounts, projects, users, policy grants, access keys and token hashes. Names are unique
 * per account (accounts: globally); a clash throws OCTS_ERR_IDENTITY_EXISTS. Deleting a user deletes
 * its grants, access keys and tokens in the same transaction.
 */
export interface IdentityStore {
  /** True when no account exists yet (first start). */
  isEmpty(): Promise<boolean>
  insertAccount(account: Account): Promise<void>
  getAccount(id: string): Promise<Account | undefined>
  findAccount(name: string): Promise<Account | undefined>
  /** Sorted by name. */
  listAccounts(): Promise<Account[]>

  insertProject(project: Project): Promise<void>
  getProject(id: string): Promise<Project | undefined>
  findProject(accountId: string, name: string): Promise<Project | undefined>
  /** Projects of the account (every project when `accountId` is undefined), sorted by (account, name). */
  listProjects(accountId?: string): Promise<Project[]>

  insertUser(user: User): Promise<void>
  getUser(id: string): Promise<User | undefined>
  findUser(accountId: string, name: string): Promise<User | undefined>
  /** Sorted by name. */
  listUsers(accountId: string): Promise<User[]>
  /** Sets the password hash. Throws OCTS_ERR_IDENTITY_NOT_FOUND if the user is gone. */
  setPassword(userId: string, passwordHash: string | null): Promise<void>
  /** Enables or disables. Throws OCTS_ERR_IDENTITY_NOT_FOUND if the user is gone. */
  setUserEnabled(userId: string, enabled: boolean): Promise<void>
  /** Deletes the user with its grants, access keys and tokens; returns false if it did not exist. */
  deleteUser(userId: string): Promise<boolean>

  /** Idempotent: granting a held policy again changes nothing. */
  grant(grant: PolicyGrant): Promise<void>
  /** Returns false if the grant did not exist. */
  revoke(grant: PolicyGrant): Promise<boolean>
  /** Grants of the user, sorted by (policy name, project id with account-wide first). */
  grantsOf(userId: string): Promise<PolicyGrant[]>

  insertAccessKey(key: AccessKey): Promise<void>
  getAccessKey(accessKeyId: string): Promise<AccessKey | undefined>
  /** Sorted by creation time, then id. */
  listAccessKeys(userId: string): Promise<AccessKey[]>
  /** Throws OCTS_ERR_IDENTITY_NOT_FOUND if the key is gone. */
  setAccessKeyStatus(accessKeyId: string, status: AccessKeyStatus): Promise<void>
  /** Returns false if the key did not exist. */
  deleteAccessKey(accessKeyId: string): Promise<boolean>

  insertToken(token: TokenRecord): Promise<void>
  getToken(tokenHash: string): Promise<TokenRecord | undefined>
  /** Revokes one token; returns false if it was not stored. */
  deleteToken(tokenHash: string): Promise<boolean>
  /** Revokes every token of the user; returns how many there were. */
  deleteTokensOf(userId: string): Promise<number>
  /** Deletes tokens that expired at or before `now`; returns the count. */
  purgeExpiredTokens(now: number): Promise<number>
}

/**
 * A named encryption master key (the tracker's `kms_id`). Each version's 32-byte key material is
 * sealed with the server master key (`master.key`, kept outside the store); old versions stay so
 * that files encrypted under them can still be opened.
 */
export interface KmsKeyRecord {
  /** The `kms_id` trackers name: a UUID. */
  readonly id: string
  /** Unique alias. */
  readonly name: string
  readonly createdAt: number
  /** Ascending by version, starting at 1; the last one encrypts new files. */
  readonly versions: readonly KmsKeyVersion[]
}

export interface KmsKeyVersion {
  readonly version: number
  readonly sealedMaterial: string
  readonly createdAt: number
}

/** An RSA key pair signing digest files (SHA256withRSA). */
export interface SigningKeyRecord {
  /** Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo. */
  readonly fingerprint: string
  /** PEM SubjectPublicKeyInfo. */
  readonly publicKeyPem: string
  /** PKCS#8 DER private key, sealed with the server master key. */
  readonly sealedPrivateKey: string
  /** Start of the validity window (ms). */
  readonly validFrom: number
  /** End of the validity window (ms), or null while the key is the current one. */
  readonly validTo: number | null
}

/** Key material: KMS-style master keys for trace file encryption and digest signing keys. */
export interface KeyStore {
  /** Stores a new key with its versions. Throws OCTS_ERR_KEY_EXISTS if the id or name is taken. */
  insertKmsKey(key: KmsKeyRecord): Promise<void>
  /**
   * Appends a version. Throws OCTS_ERR_KEY_NOT_FOUND if the key is gone, OCTS_ERR_CONFLICT if the
   * version exists (a concurrent rotation).
   */
  addKmsKeyVersion(keyId: string, version: KmsKeyVersion): Promise<void>
  /** The key by id or by name, or undefined. */
  getKmsKey(idOrName: string): Promise<KmsKeyRecord | undefined>
  /** Sorted by name. */
  listKmsKeys(): Promise<KmsKeyRecord[]>
  /**
   * In one transaction: ends the current signing key's window at `key.validFrom` (when there is
   * one) and stores `key` as the current key (`validTo` null).
   */
  rotateSigningKey(key: SigningKeyRecord): Promise<void>
  /** Every signing key, oldest first. */
  listSigningKeys(): Promise<SigningKeyRecord[]>
}

/** A trace file delivered to object storage, as the digest of its period lists it. */
export interface DeliveredFile {
  readonly trackerId: string
  readonly bucket: string
  readonly key: string
  /** Lowercase hex SHA-256 of the stored object bytes. */
  readonly sha256: string
  /** The delivery time in the file name (ms); the digest of the period containing it lists it. */
  readonly deliveredAt: number
  readonly traceCount: number
  /** Oldest and newest trace `time` in the file (ms). */
  readonly oldestTime: number
  readonly newestTime: number
}

/**
 * Durable progress of one tracker's transfer. `pending` and `digest` are opaque JSON owned by the
 * transfer module (the batch in flight, the digest chain); the store only keeps them atomically.
 */
export interface TransferState {
  readonly trackerId: string
  /** Highest trace `seq` delivered or deliberately skipped. */
  readonly cursor: number
  readonly pending: string | null
  readonly digest: string | null
}

/**
 * Transfer progress (cursor, batch in flight, delivered files, digest chain). Each call is one
 * transaction, so after a crash the state is the one before or after a call, never in between.
 */
export interface TransferStore {
  getTransferState(trackerId: string): Promise<TransferState | undefined>
  /** Creates the state with `cursor` unless it exists; returns the stored state. */
  initTransferState(trackerId: string, cursor: number): Promise<TransferState>
  /** Records the batch about to be written (write-ahead), before any object is put. */
  savePending(trackerId: string, pending: string): Promise<void>
  /** Sets the cursor, clears `pending` and records the delivered files, in one transaction. */
  commitBatch(trackerId: string, cursor: number, files: readonly DeliveredFile[]): Promise<void>
  /** Replaces the digest chain state. */
  saveDigestState(trackerId: string, digest: string | null): Promise<void>
  /** Files of the tracker with `from <= deliveredAt < to`, by (deliveredAt, key). */
  deliveredFiles(trackerId: string, from: number, to: number): Promise<DeliveredFile[]>
  /** Forgets a tracker's state and files (the tracker was deleted). */
  deleteTransferState(trackerId: string): Promise<void>
  /** Deletes the tracker's file records delivered before `time` (digested); returns the count. */
  purgeDeliveredFiles(trackerId: string, time: number): Promise<number>
}

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

/** Reads the hash of the complete subtree of 2^level leaves starting at leaf index * 2^level. */
export type MerkleNodeReader = (level: number, index: number) => Buffer

/**
 * The encoding and hashing of the per-project Merkle log, injected into a store by the composition
 * root (store/ does not import integrity/): the canonical document stored for a trace, the leaf
 * hash of a stored document, and `appendLeaf` of integrity/merkle.
 */
export interface MerkleHashing {
  /** The document stored for a trace (its canonical text; it decodes back to the trace). */
  document(trace: TraceRecord): string
  /** The leaf hash of a stored document. */
  leafHash(document: string): Buffer
  /**
   * The leaf hashes of many documents, in order, computed off the event loop (the store awaits
   * them before its write transaction); optional, `leafHash` is used without it.
   */
  leafHashes?(documents: readonly string[]): Promise<Buffer[]>
  /** The complete subtrees `[level, index, hash]` completed by appending leaf `index` (the old size). */
  appendLeaf(index: number, leaf: Buffer, node: MerkleNodeReader): [number, number, Buffer][]
}

/**
 * The per-project Merkle log of stored traces: each newly stored trace is appended as a leaf in the
 * transaction that stores it, in commit order. Empty (size 0) when the store was opened without
 * MerkleHashing (the log is off).
 */
export interface MerkleLogStore {
  /** Tree size of the project (0 when no leaf). */
  treeSize(projectId: string): Promise<number>
  /**
   * Complete-subtree hash reader of the project's tree, valid for sizes <= treeSize at the time of
   * the call (synchronous reads inside; for proofs). `node` throws OCTS_ERR_READ_FAILED for a
   * subtree that is not stored.
   */
  withNodes<T>(projectId: string, fn: (node: MerkleNodeReader, size: number) => T): Promise<T>
  /** The leaf index of a stored trace, or undefined. */
  leafIndexOf(projectId: string, traceId: string): Promise<number | undefined>
  /** The stored trace of a trace id with its leaf index and document; undefined without a leaf. */
  leafOf(projectId: string, traceId: string): Promise<StoredLeaf | undefined>
  /** The stored trace at a leaf index with its document, or undefined (a scan of the project). */
  leafAt(projectId: string, leafIndex: number): Promise<StoredLeaf | undefined>

  /** Projects whose tree has grown past their latest checkpoint, with their current size. */
  uncheckpointed(): Promise<{ projectId: string; size: number }[]>
  /** Stores a signed checkpoint; one of a given (project, size) is kept (a repeat is ignored). */
  saveCheckpoint(checkpoint: StoredCheckpoint): Promise<void>
  /** The project's checkpoint of the largest size, or undefined. */
  latestCheckpoint(projectId: string): Promise<StoredCheckpoint | undefined>
  /** The project's checkpoint of exactly `size` leaves, or undefined. */
  checkpointAt(projectId: string, size: number): Promise<StoredCheckpoint | undefined>
  /** The project's checkpoints with size > `afterSize`, smallest first, at most `limit`. */
  listCheckpoints(projectId: string, afterSize: number, limit: number): Promise<StoredCheckpoint[]>
  /** Every project that has a log (size > 0), sorted. */
  logProjects(): Promise<string[]>
  /**
   * Thins checkpoints signed before `before`: of each project's checkpoints of one `spanMs`
   * period, only the largest is kept (and so every project's latest). Returns how many went.
   */
  thinCheckpoints(before: number, spanMs: number): Promise<number>

  /** Stores a checkpoint signing key. Throws OCTS_ERR_KEY_EXISTS when the key id is taken. */
  insertLogKey(key: LogKeyRecord): Promise<void>
  /** Every checkpoint signing key, oldest first. */
  listLogKeys(): Promise<LogKeyRecord[]>

  /**
   * Reads the stored trace rows for an audit (verify --store): every project's, with a leaf index
   * or none, in commit order, after commit position `afterSeq`, at most `limit`.
   */
  auditRows(afterSeq: number, limit: number): Promise<AuditRow[]>
  /** The stored hash of a leaf (level-0 node), or undefined when it is not stored. */
  storedLeafHash(projectId: string, leafIndex: number): Promise<Buffer | undefined>
}

/** A trace of the log with the exact document stored for it. */
export interface StoredLeaf {
  readonly leafIndex: number
  readonly trace: TraceRecord
  /** The stored document text (canonical when the log wrote it). */
  readonly document: string
}

/** A signed checkpoint as stored: the note text and its parsed fields. */
export interface StoredCheckpoint {
  readonly projectId: string
  readonly size: number
  /** 32-byte root hash. */
  readonly root: Buffer
  /** Signing time, epoch ms (the note's `time` line). */
  readonly time: number
  /** The full signed note (integrity/checkpoint format). */
  readonly note: string
}

/** An Ed25519 key that signs checkpoints. */
export interface LogKeyRecord {
  /** Lowercase hex of the 4-byte C2SP key id. */
  readonly keyId: string
  readonly keyName: string
  /** PEM SubjectPublicKeyInfo. */
  readonly publicKey: string
  /** PKCS#8 DER base64 of the private key, sealed with the master key (bound to `log:{keyId}`). */
  readonly sealedPrivateKey: string
  readonly createdAt: number
}

/** One stored trace row as an audit reads it. */
export interface AuditRow {
  /** Commit position (`traces.seq`). */
  readonly seq: number
  readonly projectId: string
  readonly traceId: string
  /** Null when the trace was stored while the log was off (or inserted behind the log's back). */
  readonly leafIndex: number | null
  /** The stored document text. */
  readonly document: string
  /**
   * False when an indexed column (time, names, ids, user…) disagrees with the document, or the
   * document is not JSON: the row was edited outside OpenCTS.
   */
  readonly columnsMatch: boolean
}

export interface Store {
  readonly traces: TraceStore
  readonly merkle: MerkleLogStore
  readonly config: ConfigStore
  readonly identity: IdentityStore
  readonly keys: KeyStore
  readonly transfer: TransferStore
  readonly delivery: DeliveryStore
  /** Whether writes fail for lack of space (set and cleared by the store; see StorageCondition). */
  readonly storage: StorageCondition
  /**
   * Commits a small write that needs new space and clears `storage` when it succeeds; throws
   * OCTS_ERR_STORAGE_FULL while the disk is still full. Used by `/health` while `storage.full`.
   */
  probeSpace(): Promise<void>
  /** Flushes and releases the store. Further calls fail. */
  close(): Promise<void>
}
