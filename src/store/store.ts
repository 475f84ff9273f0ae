/**
 * @module store/store
 * The storage ports. Shaped by what callers need (append a batch, page newest-first by a filter, get
 * by id, purge before a time, read from a cursor), not by tables, so that another engine (PostgreSQL,
 * compressed blocks) can replace SQLite without touching ingest, query or http.
 *
 * Every implementation passes `test/store-contract.ts`. Errors leave a store only as `OpenCtsError`:
 * - `OCTS_ERR_STORE_CONFLICT` (retryable, e.g. SQLITE_BUSY),
 * - `OCTS_ERR_CONFLICT` (a unique key was taken by a concurrent writer).
 */
import type {
  Notification,
  TraceCategory,
  TraceRating,
  TraceRecord,
  Tracker,
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
  get(projectId: string, traceId: string): Promise<TraceRecord | undefined>
  /** Deletes traces whose `time` is before `time`, at most `maxRows` per call; returns the count. */
  purgeBefore(time: number, maxRows: number): Promise<number>
  /** Committed traces with `seq > afterSeq`, in commit order, at most `limit`. */
  readFrom(afterSeq: number, limit: number): Promise<SequencedTrace[]>
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

export interface Store {
  readonly traces: TraceStore
  readonly config: ConfigStore
  readonly identity: IdentityStore
  /** Flushes and releases the store. Further calls fail. */
  close(): Promise<void>
}
