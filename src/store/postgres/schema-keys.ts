/**
 * @module store/postgres/schema-keys
 * Tables of the keys port (part of migration 1), as the SQLite engine's: key material is sealed
 * with the server master key, never stored in clear. `signing_keys.valid_to` is NULL for the
 * current key, and the partial unique index `signing_keys_one_current` makes a second current key
 * impossible whatever the nodes do; `rotation` (increasing) orders keys of the same `valid_from`
 * by rotation, as SQLite's rowid does. Global tables: keys belong to the deployment, not to a project.
 */
export const KEYS_SQL = `
CREATE TABLE kms_keys (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT COLLATE "C" NOT NULL UNIQUE,
  created_at BIGINT NOT NULL
);
CREATE TABLE kms_key_versions (
  key_id TEXT COLLATE "C" NOT NULL REFERENCES kms_keys (id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  sealed_material TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (key_id, version)
);
CREATE TABLE signing_keys (
  fingerprint TEXT COLLATE "C" PRIMARY KEY,
  rotation BIGINT GENERATED ALWAYS AS IDENTITY,
  public_key_pem TEXT NOT NULL,
  sealed_private_key TEXT NOT NULL,
  valid_from BIGINT NOT NULL,
  valid_to BIGINT
);
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys ((valid_to IS NULL)) WHERE valid_to IS NULL;
CREATE INDEX signing_keys_by_time ON signing_keys (valid_from, rotation);
`
