/**
 * @module store/postgres/schema-traces
 * Tables of the traces port (part of migration 1).
 *
 * - `trace_head`: one row, the highest `seq` ever committed. Every append locks it (`FOR UPDATE`)
 *   and numbers its traces `head + 1 …` itself, so `seq` follows commit order across nodes (a
 *   downstream cursor reading `seq > n` never passes a trace committed later with a smaller seq),
 *   and `headSeq()` never goes back, even after retention.
 * - `traces`: RANGE-partitioned by day on `time` (ms); partitions `traces_day_<n>` (n = days since
 *   the epoch) are created on demand by the store and dropped whole by retention. A partitioned
 *   table cannot have a unique key without `time`, so the primary key `(project_id, category, time,
 *   seq)` is the management/data page index; each filter column has `(project_id, <col>, time,
 *   seq)`, `(seq)` serves commit-order reads and `(project_id, seq)` the per-project ones.
 * - `trace_keys`: the unpartitioned per-project idempotency key `(project_id, trace_id)` → where the
 *   row is (`time`, `seq`) and its leaf index (unique per project: a fork would violate it).
 * - `trace_operators`, `trace_catalogue`: what the user-resources and operations APIs list.
 *
 * Migration 2 (TRACE_EXTRAS_SQL) adds `source_ip` and `code` to `traces`, which statistics group
 * by and search filters on (no index: they narrow what an indexed filter found). Rows stored
 * before it have them NULL and are read from their document (EXTRA_COLUMN_SQL).
 */
import { FILTER_COLUMNS } from '../trace-columns.js'

export const TRACES_SQL = `
CREATE TABLE trace_head (
  id integer PRIMARY KEY CHECK (id = 1),
  seq bigint NOT NULL
);
INSERT INTO trace_head (id, seq) VALUES (1, 0);
CREATE TABLE traces (
  seq bigint NOT NULL,
  trace_id text NOT NULL,
  project_id text NOT NULL,
  time bigint NOT NULL,
  category text NOT NULL,
  tracker_name text,
  service_type text NOT NULL,
  resource_type text NOT NULL,
  resource_id text,
  resource_name text,
  trace_name text NOT NULL,
  trace_rating text NOT NULL,
  user_name text,
  access_key_id text,
  enterprise_project_id text,
  doc text NOT NULL,
  leaf_index bigint,
  PRIMARY KEY (project_id, category, time, seq)
) PARTITION BY RANGE (time);
CREATE INDEX traces_by_seq ON traces (seq);
CREATE INDEX traces_by_project_seq ON traces (project_id, seq);
${FILTER_COLUMNS.map((c) => `CREATE INDEX traces_by_${c} ON traces (project_id, ${c}, time, seq);`).join('\n')}
CREATE TABLE trace_keys (
  project_id text NOT NULL,
  trace_id text NOT NULL,
  time bigint NOT NULL,
  seq bigint NOT NULL,
  leaf_index bigint,
  PRIMARY KEY (project_id, trace_id)
);
CREATE INDEX trace_keys_by_time ON trace_keys (time);
CREATE UNIQUE INDEX trace_keys_by_leaf ON trace_keys (project_id, leaf_index)
  WHERE leaf_index IS NOT NULL;
CREATE TABLE trace_operators (
  project_id text NOT NULL,
  user_name text NOT NULL,
  last_seen bigint NOT NULL,
  PRIMARY KEY (project_id, user_name)
);
CREATE TABLE trace_catalogue (
  project_id text NOT NULL,
  service_type text NOT NULL,
  resource_type text NOT NULL,
  trace_name text NOT NULL,
  last_seen bigint NOT NULL,
  PRIMARY KEY (project_id, service_type, resource_type, trace_name)
);
`

export const TRACE_EXTRAS_SQL = `
ALTER TABLE traces ADD COLUMN source_ip text, ADD COLUMN code text;
`

/** The SQL value of an extra column: the column, or for a row stored before it, its document's. */
export const EXTRA_COLUMN_SQL = {
  source_ip: `COALESCE(source_ip, doc::jsonb ->> 'source_ip')`,
  code: `COALESCE(code, doc::jsonb ->> 'code')`,
} as const
