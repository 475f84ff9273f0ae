/**
 * @module store/postgres/schema-transfer
 * Tables of the transfer port (part of migration 1): `transfer_state` (cursor, batch in flight,
 * digest chain per tracker) and `transfer_files` (delivered files until their digest is written),
 * the SQLite engine's tables. A tracker's rows go with the tracker (the config port's
 * `deleteTrackers` deletes them in its transaction).
 *
 * Keyed by tracker id without `project_id`: the port names a tracker by its id alone (a random UUID,
 * unique across projects) and never by project, so adding the project would cost a lookup of the
 * tracker on every call. To distribute by project, these two small tables (one row per tracker, a
 * few rows per tracker and day) are distributed by `tracker_id` — co-location with the traces is not
 * needed, since no statement joins them — or made reference tables.
 */
export const TRANSFER_SQL = `
CREATE TABLE transfer_state (
  tracker_id text PRIMARY KEY,
  cursor bigint NOT NULL,
  pending text,
  digest text
);
CREATE TABLE transfer_files (
  tracker_id text NOT NULL,
  bucket text NOT NULL,
  key text COLLATE "C" NOT NULL,
  sha256 text NOT NULL,
  delivered_at bigint NOT NULL,
  trace_count integer NOT NULL,
  oldest_time bigint NOT NULL,
  newest_time bigint NOT NULL,
  PRIMARY KEY (tracker_id, bucket, key)
);
CREATE INDEX transfer_files_by_time ON transfer_files (tracker_id, delivered_at, key);
`
