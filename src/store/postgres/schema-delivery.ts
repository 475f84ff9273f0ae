/**
 * @module store/postgres/schema-delivery
 * Tables of the delivery port (part of migration 1), the SQLite engine's tables with `project_id`
 * leading every primary and unique key: topics and their subscriptions (deleted with their topic),
 * function endpoints, the `deliveries` outbox, and named `cursors` of durable consumers.
 *
 * A topic or function URN embeds its project (`urn:smn:{region}:{project_id}:{name}`), and a
 * delivery or subscription id is random or derived from a per-project notification, so
 * `(project_id, urn)` / `(project_id, id)` identify a row as the URN or id alone does; the
 * store also refuses a URN stored under another project (see PostgresDeliveryStore). Lookups by URN
 * or id alone use the secondary indexes. Text that lists are ordered by is `COLLATE "C"` (byte
 * order, as SQLite compares), so the orders match the embedded engine whatever the database's
 * collation. `cursors` is not project data (one row per consumer of the whole store).
 */
export const DELIVERY_SQL = `
CREATE TABLE smn_topics (
  project_id text NOT NULL,
  urn text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (project_id, urn),
  UNIQUE (project_id, name)
);
CREATE INDEX smn_topics_by_urn ON smn_topics (urn);
CREATE TABLE smn_subscriptions (
  project_id text NOT NULL,
  id text COLLATE "C" NOT NULL,
  topic_urn text COLLATE "C" NOT NULL,
  protocol text NOT NULL,
  endpoint text NOT NULL,
  sealed_secret text NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (project_id, id),
  FOREIGN KEY (project_id, topic_urn) REFERENCES smn_topics (project_id, urn) ON DELETE CASCADE
);
CREATE INDEX smn_subscriptions_by_topic ON smn_subscriptions (topic_urn, created_at, id);
CREATE INDEX smn_subscriptions_by_id ON smn_subscriptions (id);
CREATE TABLE functions (
  project_id text NOT NULL,
  urn text COLLATE "C" NOT NULL,
  endpoint text NOT NULL,
  sealed_secret text NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (project_id, urn)
);
CREATE INDEX functions_by_urn ON functions (urn);
CREATE TABLE deliveries (
  project_id text NOT NULL,
  id text COLLATE "C" NOT NULL,
  notification_id text NOT NULL,
  trace_id text NOT NULL,
  target_kind text NOT NULL,
  target_id text NOT NULL,
  protocol text NOT NULL,
  endpoint text NOT NULL,
  payload text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts integer NOT NULL,
  next_attempt_at bigint NOT NULL,
  last_error text,
  created_at bigint NOT NULL,
  delivered_at bigint,
  PRIMARY KEY (project_id, id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, created_at, id) WHERE status = 'pending';
CREATE INDEX deliveries_by_project ON deliveries (project_id, created_at);
CREATE INDEX deliveries_by_id ON deliveries (id);
CREATE INDEX deliveries_done ON deliveries (created_at) WHERE status <> 'pending';
CREATE TABLE cursors (
  name text PRIMARY KEY,
  seq bigint NOT NULL
);
`
