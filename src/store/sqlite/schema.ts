/**
 * @module store/sqlite/schema
 * The SQLite schema, version 2. `traces.seq` is AUTOINCREMENT so it never goes backwards, even
 * after retention deletes the newest rows: downstream cursors (transfer, delivery) rely on that.
 * Every filter index ends in `time` (and, implicitly, the rowid `seq`), so each CTS filter is served
 * newest-first by one index range scan.
 *
 * Version 2 adds the identity tables (`iam_*`), version 3 the key tables (`kms_*`, `signing_keys`)
 * and the transfer progress (`transfer_*`), version 4 notification delivery (`smn_*`, `functions`,
 * `deliveries`, `cursors`), version 5 the per-project Merkle log (`merkle_*`, `traces.leaf_index`),
 * version 6 its signed checkpoints and their keys (`merkle_checkpoints`, `log_keys`), version 7
 * makes trace ids unique per project (`UNIQUE (project_id, trace_id)`, was `trace_id UNIQUE`): a
 * trace id is a duplicate only of the same project's trace. Version 8 replaces the `traces` table
 * by compressed blocks (blocks/block-schema), version 9 keeps their body chunks as rows of
 * `trace_chunks` (blocks of version 8 keep their body in their row and are read as they are),
 * version 10 adds page columns to the value index of new blocks (`trace_blocks.vals`; older
 * blocks are read without them, so the upgrade rewrites nothing), version 11 keeps new blocks'
 * value indexes as rows of `trace_vals` (older blocks' stay in their row, read as they are), version
 * 12 cuts the index of new blocks with page columns into posting rows (`trace_postings`; older
 * blocks are read as they are). Version 13 adds the alarm rules and their transition history
 * (`alarm_rules`, `alarm_history`) and the insights (`insights`, `insight_state`).
 * Every statement is `IF NOT EXISTS`, so running SCHEMA_SQL on an older file upgrades it (the
 * opener adds `traces.leaf_index` when missing and rebuilds a traces table of the global
 * uniqueness, keeping every row and its `seq`); the opener then records the new version in `meta`.
 */
import { FILTER_COLUMNS } from '../trace-columns.js'
import { BLOCK_TABLES_SQL } from './blocks/block-schema.js'

export { FILTER_COLUMNS }
export const SCHEMA_VERSION = 13

/**
 * Connection settings of the store's SQLite database. WAL with synchronous=NORMAL: a commit
 * survives a process crash; FULL (see SqliteStoreOptions) also survives power loss. A 16 MiB page
 * cache: the block layout keeps what queries read most decoded in caches of its own (block-reader),
 * and the B-trees' inner pages fit in far less.
 */
export const CONNECTION_PRAGMAS = [
  'journal_mode = WAL',
  'busy_timeout = 5000',
  'cache_size = -16384',
] as const

/**
 * The row-per-trace table of versions 1–7 (kept for the 7 → 8 migration and its tests).
 * The traces table under a name (`traces`; the migration builds the new form under another name).
 * A trace id is unique within its project only: tenants never collide, and the unique index
 * `(project_id, trace_id)` serves every lookup by id (always scoped to a project).
 */
export function traceTableSql(name: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${name} (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  trace_id TEXT NOT NULL,
  project_id TEXT NOT NULL,
  time INTEGER NOT NULL,
  category TEXT NOT NULL,
  tracker_name TEXT,
  service_type TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource_id TEXT,
  resource_name TEXT,
  trace_name TEXT NOT NULL,
  trace_rating TEXT NOT NULL,
  user_name TEXT,
  access_key_id TEXT,
  enterprise_project_id TEXT,
  doc TEXT NOT NULL,
  leaf_index INTEGER,
  UNIQUE (project_id, trace_id)
);`
}

export const TRACE_TABLE_SQL = `${traceTableSql('traces')}
CREATE INDEX IF NOT EXISTS traces_by_project_time ON traces (project_id, time);
CREATE INDEX IF NOT EXISTS traces_by_time ON traces (time);
${FILTER_COLUMNS.map((c) => `CREATE INDEX IF NOT EXISTS traces_by_${c} ON traces (project_id, ${c}, time);`).join('\n')}
`

/**
 * Identity (see IdentityStore). No secret is stored in clear: `password_hash` is a scrypt hash,
 * `sealed_secret` the secret key sealed with a master key kept outside this file, `token_hash` the
 * SHA-256 of the token. `iam_grants.project_id` is '' for an account-wide grant (null in the
 * model), so that it can be part of the primary key. Deleting a user cascades to its grants, keys
 * and tokens.
 */
export const IDENTITY_TABLES_SQL = `
CREATE TABLE IF NOT EXISTS iam_accounts (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS iam_projects (
  id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES iam_accounts (id), name TEXT NOT NULL,
  created_at INTEGER NOT NULL, UNIQUE (account_id, name)
);
CREATE TABLE IF NOT EXISTS iam_users (
  id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES iam_accounts (id), name TEXT NOT NULL,
  password_hash TEXT, enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  created_at INTEGER NOT NULL, UNIQUE (account_id, name)
);
CREATE TABLE IF NOT EXISTS iam_grants (
  user_id TEXT NOT NULL REFERENCES iam_users (id) ON DELETE CASCADE,
  policy_name TEXT NOT NULL, project_id TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (user_id, policy_name, project_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS iam_access_keys (
  access_key_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES iam_users (id) ON DELETE CASCADE,
  sealed_secret TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
  description TEXT NOT NULL, created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS iam_access_keys_by_user ON iam_access_keys (user_id);
CREATE TABLE IF NOT EXISTS iam_tokens (
  token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES iam_users (id) ON DELETE CASCADE,
  project_id TEXT NOT NULL, issued_at INTEGER NOT NULL, expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS iam_tokens_by_user ON iam_tokens (user_id);
CREATE INDEX IF NOT EXISTS iam_tokens_by_expiry ON iam_tokens (expires_at);
`

/**
 * Keys (see KeyStore): key material is sealed with the server master key, never stored in clear.
 * `signing_keys.valid_to` is NULL for the one current key.
 */
export const KEY_TABLES_SQL = `
CREATE TABLE IF NOT EXISTS kms_keys (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS kms_key_versions (
  key_id TEXT NOT NULL REFERENCES kms_keys (id) ON DELETE CASCADE, version INTEGER NOT NULL,
  sealed_material TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (key_id, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS signing_keys (
  fingerprint TEXT PRIMARY KEY, public_key_pem TEXT NOT NULL, sealed_private_key TEXT NOT NULL,
  valid_from INTEGER NOT NULL, valid_to INTEGER
);
`

/**
 * Transfer progress (see TransferStore): one state row per tracker (cursor, batch in flight, digest
 * chain) and one row per delivered file, kept until its digest period is well past.
 */
export const TRANSFER_TABLES_SQL = `
CREATE TABLE IF NOT EXISTS transfer_state (
  tracker_id TEXT PRIMARY KEY, cursor INTEGER NOT NULL, pending TEXT, digest TEXT
);
CREATE TABLE IF NOT EXISTS transfer_files (
  tracker_id TEXT NOT NULL, bucket TEXT NOT NULL, key TEXT NOT NULL, sha256 TEXT NOT NULL,
  delivered_at INTEGER NOT NULL, trace_count INTEGER NOT NULL, oldest_time INTEGER NOT NULL,
  newest_time INTEGER NOT NULL, PRIMARY KEY (tracker_id, bucket, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS transfer_files_by_time ON transfer_files (tracker_id, delivered_at);
`

/**
 * Notification delivery (see DeliveryStore): topics and their subscriptions (secrets sealed),
 * function endpoints, the outbox of deliveries, and named cursors of durable consumers.
 */
export const DELIVERY_TABLES_SQL = `
CREATE TABLE IF NOT EXISTS smn_topics (
  urn TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL, created_at INTEGER NOT NULL,
  UNIQUE (project_id, name)
);
CREATE TABLE IF NOT EXISTS smn_subscriptions (
  id TEXT PRIMARY KEY, topic_urn TEXT NOT NULL REFERENCES smn_topics (urn) ON DELETE CASCADE,
  project_id TEXT NOT NULL, protocol TEXT NOT NULL, endpoint TEXT NOT NULL,
  sealed_secret TEXT NOT NULL, created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS smn_subscriptions_by_topic ON smn_subscriptions (topic_urn);
CREATE TABLE IF NOT EXISTS functions (
  urn TEXT PRIMARY KEY, project_id TEXT NOT NULL, endpoint TEXT NOT NULL,
  sealed_secret TEXT NOT NULL, created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
  id TEXT PRIMARY KEY, project_id TEXT NOT NULL, notification_id TEXT NOT NULL,
  trace_id TEXT NOT NULL, target_kind TEXT NOT NULL, target_id TEXT NOT NULL,
  protocol TEXT NOT NULL, endpoint TEXT NOT NULL, payload TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL, last_error TEXT,
  created_at INTEGER NOT NULL, delivered_at INTEGER
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS deliveries_by_project ON deliveries (project_id, created_at);
CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, seq INTEGER NOT NULL);
`

/**
 * The per-project Merkle log (see MerkleLogStore): the tree size, and the hash of every complete
 * subtree (`level` 0 = leaf hashes; `idx` = first leaf / 2^level), fewer than 2 rows per leaf. A
 * trace's position is `traces.leaf_index` (NULL when stored while the log was off).
 */
export const MERKLE_TABLES_SQL = `
CREATE TABLE IF NOT EXISTS merkle_trees (project_id TEXT PRIMARY KEY, size INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS merkle_nodes (
  project_id TEXT NOT NULL, level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
  PRIMARY KEY (project_id, level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS merkle_checkpoints (
  project_id TEXT NOT NULL, size INTEGER NOT NULL, root BLOB NOT NULL, time INTEGER NOT NULL,
  note TEXT NOT NULL, PRIMARY KEY (project_id, size)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log_keys (
  key_id TEXT PRIMARY KEY, key_name TEXT NOT NULL, public_key TEXT NOT NULL,
  sealed_private_key TEXT NOT NULL, created_at INTEGER NOT NULL
);
`

/**
 * Alarms (see AlarmStore): each rule a JSON document keyed by (project, id) with its name unique
 * per project, `enabled` and `version` as columns for the evaluator's walk and its compare-and-set;
 * its transitions newest first by (time, id) within the rule.
 */
export const ALARM_TABLES_SQL = `
CREATE TABLE IF NOT EXISTS alarm_rules (
  project_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, enabled INTEGER NOT NULL,
  version INTEGER NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY (project_id, id), UNIQUE (project_id, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS alarm_rules_enabled ON alarm_rules (enabled, project_id, id);
CREATE TABLE IF NOT EXISTS alarm_history (
  project_id TEXT NOT NULL, alarm_id TEXT NOT NULL, time INTEGER NOT NULL, id TEXT NOT NULL,
  doc TEXT NOT NULL, PRIMARY KEY (project_id, alarm_id, time, id)
) WITHOUT ROWID;
`

/**
 * Insights (see InsightStore): one row per insight event (its document in `doc`; `service_type` is
 * '' when it spans services), and the detectors' state entries (the cursor under the key '').
 */
export const INSIGHT_TABLES_SQL = `
CREATE TABLE IF NOT EXISTS insights (
  project_id TEXT NOT NULL, id TEXT NOT NULL, insight_id TEXT NOT NULL, insight_type TEXT NOT NULL,
  state TEXT NOT NULL, time INTEGER NOT NULL, service_type TEXT NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY (project_id, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS insights_by_time ON insights (project_id, time, id);
CREATE INDEX IF NOT EXISTS insights_by_age ON insights (time);
CREATE TABLE IF NOT EXISTS insight_state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
${BLOCK_TABLES_SQL}
CREATE TABLE IF NOT EXISTS operators (
  project_id TEXT NOT NULL, user_name TEXT NOT NULL, last_seen INTEGER NOT NULL,
  PRIMARY KEY (project_id, user_name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS catalogue (
  project_id TEXT NOT NULL, service_type TEXT NOT NULL, resource_type TEXT NOT NULL,
  trace_name TEXT NOT NULL, last_seen INTEGER NOT NULL,
  PRIMARY KEY (project_id, service_type, resource_type, trace_name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS projects (project_id TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS trackers (
  id TEXT PRIMARY KEY, project_id TEXT NOT NULL, tracker_name TEXT NOT NULL,
  tracker_type TEXT NOT NULL, doc TEXT NOT NULL, UNIQUE (project_id, tracker_name)
);
CREATE TABLE IF NOT EXISTS notifications (
  id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL,
  UNIQUE (project_id, name)
);
CREATE TABLE IF NOT EXISTS tags (
  project_id TEXT NOT NULL, resource_type TEXT NOT NULL, resource_id TEXT NOT NULL,
  key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (project_id, resource_type, resource_id, key)
) WITHOUT ROWID;
${IDENTITY_TABLES_SQL}
${KEY_TABLES_SQL}
${TRANSFER_TABLES_SQL}
${DELIVERY_TABLES_SQL}
${MERKLE_TABLES_SQL}
${ALARM_TABLES_SQL}
${INSIGHT_TABLES_SQL}
`
