/**
 * @module store/postgres/schema-insights
 * Migration 2: the tables of the insights port, the SQLite engine's tables with `project_id`
 * leading the key: `insights` (one row per insight event, its document in `doc`; `service_type` is
 * '' when it spans services) and `insight_state` (the detectors' entries, the cursor under the key
 * ''; not project data: one set for the whole store). Ids are `COLLATE "C"` so that the page order
 * (`time DESC, id DESC`) is SQLite's byte order.
 */
export const INSIGHTS_SQL = `
CREATE TABLE insights (
  project_id text NOT NULL,
  id text COLLATE "C" NOT NULL,
  insight_id text NOT NULL,
  insight_type text NOT NULL,
  state text NOT NULL,
  time bigint NOT NULL,
  service_type text NOT NULL,
  doc text NOT NULL,
  PRIMARY KEY (project_id, id)
);
CREATE INDEX insights_by_time ON insights (project_id, time, id);
CREATE INDEX insights_by_age ON insights (time);
CREATE TABLE insight_state (
  key text COLLATE "C" PRIMARY KEY,
  value text NOT NULL
);
`
