/**
 * @module store/postgres/schema-config
 * Tables of the config port (part of migration 1): registered projects, trackers, notifications and
 * tags, each a JSON document (TEXT, so the text round-trips exactly) beside the columns it is found
 * and kept unique by. `project_id` leads every primary and unique key, so the tables can be
 * distributed by project; a tracker is also found by id alone (`trackers_by_id`), for its health.
 * Names and keys are `COLLATE "C"`: listed in byte order, as the SQLite engine does, whatever the
 * database's default collation.
 *
 * `notifications.active` (enabled with a topic) is derived from the document by PostgreSQL, and
 * the partial index on it makes the per-commit count an index-only scan of the active ones.
 */
export const CONFIG_SQL = `
CREATE TABLE projects (
  project_id TEXT COLLATE "C" PRIMARY KEY,
  created_at BIGINT NOT NULL
);
CREATE TABLE trackers (
  project_id TEXT COLLATE "C" NOT NULL,
  id TEXT COLLATE "C" NOT NULL,
  tracker_name TEXT COLLATE "C" NOT NULL,
  tracker_type TEXT COLLATE "C" NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (project_id, id),
  UNIQUE (project_id, tracker_name)
);
CREATE INDEX trackers_by_id ON trackers (id);
CREATE TABLE notifications (
  project_id TEXT COLLATE "C" NOT NULL,
  id TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  doc TEXT NOT NULL,
  active BOOLEAN NOT NULL GENERATED ALWAYS AS (
    (doc::jsonb ->> 'status') IS NOT DISTINCT FROM 'enabled'
    AND COALESCE(doc::jsonb ->> 'topic_id', '') <> ''
  ) STORED,
  PRIMARY KEY (project_id, id),
  UNIQUE (project_id, name)
);
CREATE INDEX notifications_active ON notifications (project_id) WHERE active;
CREATE TABLE tags (
  project_id TEXT COLLATE "C" NOT NULL,
  resource_type TEXT COLLATE "C" NOT NULL,
  resource_id TEXT COLLATE "C" NOT NULL,
  key TEXT COLLATE "C" NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (project_id, resource_type, resource_id, key)
);
CREATE INDEX tags_by_resource ON tags (project_id, resource_id);
`
