/**
 * @module store/postgres/schema-merkle
 * Tables of the Merkle log port (part of migration 1): `merkle_trees` (size per project),
 * `merkle_nodes` (the hash of every complete subtree, level 0 = leaf hashes; never deleted, never
 * updated), `merkle_checkpoints` (signed notes, one per project and size) and `log_keys` (the
 * checkpoint signing keys, listed oldest first by `ord`).
 */
export const MERKLE_SQL = `
CREATE TABLE merkle_trees (
  project_id text PRIMARY KEY,
  size bigint NOT NULL
);
CREATE TABLE merkle_nodes (
  project_id text NOT NULL,
  level smallint NOT NULL,
  idx bigint NOT NULL,
  hash bytea NOT NULL,
  PRIMARY KEY (project_id, level, idx)
);
CREATE TABLE merkle_checkpoints (
  project_id text NOT NULL,
  size bigint NOT NULL,
  root bytea NOT NULL,
  time bigint NOT NULL,
  note text NOT NULL,
  PRIMARY KEY (project_id, size)
);
CREATE TABLE log_keys (
  key_id text PRIMARY KEY,
  key_name text NOT NULL,
  public_key text NOT NULL,
  sealed_private_key text NOT NULL,
  created_at bigint NOT NULL,
  ord bigint GENERATED ALWAYS AS IDENTITY
);
`
