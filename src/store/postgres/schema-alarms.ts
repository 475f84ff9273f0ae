/**
 * @module store/postgres/schema-alarms
 * Migration 3: the tables of the alarm port, the SQLite engine's with `project_id` leading every
 * key: `alarm_rules` (a JSON document per rule, unique name per project; `enabled` and `version`
 * as columns for the evaluator's walk and its compare-and-set) and `alarm_history` (a JSON
 * document per transition, newest first by (time, id) within a rule). Text that lists are ordered
 * by is `COLLATE "C"` (byte order, as SQLite compares).
 */
export const ALARMS_SQL = `
CREATE TABLE alarm_rules (
  project_id text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  enabled boolean NOT NULL,
  version integer NOT NULL,
  doc text NOT NULL,
  PRIMARY KEY (project_id, id),
  UNIQUE (project_id, name)
);
CREATE INDEX alarm_rules_enabled ON alarm_rules (project_id, id) WHERE enabled;
CREATE TABLE alarm_history (
  project_id text COLLATE "C" NOT NULL,
  alarm_id text COLLATE "C" NOT NULL,
  time bigint NOT NULL,
  id text COLLATE "C" NOT NULL,
  doc text NOT NULL,
  PRIMARY KEY (project_id, alarm_id, time, id)
);
`
