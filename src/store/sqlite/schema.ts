/**
 * @module store/sqlite/schema
 * The SQLite schema, version 1. `traces.seq` is AUTOINCREMENT so it never goes backwards, even after
 * retention deletes the newest rows: downstream cursors (transfer, delivery) rely on that.
 * Every filter index ends in `time` (and, implicitly, the rowid `seq`), so each CTS filter is served
 * newest-first by one index range scan.
 */
export const SCHEMA_VERSION = 1

/**
 * Connection settings of every OpenCTS SQLite database (the store and the benchmark's raw baseline).
 * WAL with synchronous=NORMAL: a commit survives a process crash; FULL (see SqliteStoreOptions) also
 * survives power loss. A 64 MiB page cache keeps the hot parts of the eleven indexes in memory.
 */
export const CONNECTION_PRAGMAS = [
  'journal_mode = WAL',
  'busy_timeout = 5000',
  'cache_size = -65536',
] as const

/** Columns every filter index is built on: `(project_id, <column>, time)`. */
export const FILTER_COLUMNS = [
  'service_type',
  'resource_type',
  'resource_id',
  'resource_name',
  'trace_name',
  'user_name',
  'trace_rating',
  'tracker_name',
  'access_key_id',
] as const

export const TRACE_TABLE_SQL = `
CREATE TABLE IF NOT EXISTS traces (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  trace_id TEXT NOT NULL UNIQUE,
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
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS traces_by_project_time ON traces (project_id, time);
CREATE INDEX IF NOT EXISTS traces_by_time ON traces (time);
${FILTER_COLUMNS.map((c) => `CREATE INDEX IF NOT EXISTS traces_by_${c} ON traces (project_id, ${c}, time);`).join('\n')}
`

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
${TRACE_TABLE_SQL}
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
`
