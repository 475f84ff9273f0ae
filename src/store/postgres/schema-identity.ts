/**
 * @module store/postgres/schema-identity
 * Tables of the identity port (part of migration 1), as the SQLite engine's `iam_*` tables: no
 * secret in clear (`password_hash` is a scrypt hash, `sealed_secret` sealed with the master key,
 * `token_hash` a SHA-256). `iam_grants.project_id` is '' for an account-wide grant (null in the
 * model), so it can be part of the primary key and sorts first. Identity is account-scoped, not
 * project data: these tables stay global (reference tables) when the rest is distributed by
 * project. Foreign keys refuse a row whose account or user is gone, and cascade a user's deletion.
 * Names and ids are `COLLATE "C"` so that lists come in byte order, as on SQLite.
 */
export const IDENTITY_SQL = `
CREATE TABLE iam_accounts (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT COLLATE "C" NOT NULL UNIQUE,
  created_at BIGINT NOT NULL
);
CREATE TABLE iam_projects (
  id TEXT COLLATE "C" PRIMARY KEY,
  account_id TEXT COLLATE "C" NOT NULL REFERENCES iam_accounts (id),
  name TEXT COLLATE "C" NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (account_id, name)
);
CREATE TABLE iam_users (
  id TEXT COLLATE "C" PRIMARY KEY,
  account_id TEXT COLLATE "C" NOT NULL REFERENCES iam_accounts (id),
  name TEXT COLLATE "C" NOT NULL,
  password_hash TEXT,
  enabled BOOLEAN NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (account_id, name)
);
CREATE TABLE iam_grants (
  user_id TEXT COLLATE "C" NOT NULL REFERENCES iam_users (id) ON DELETE CASCADE,
  policy_name TEXT COLLATE "C" NOT NULL,
  project_id TEXT COLLATE "C" NOT NULL DEFAULT '',
  PRIMARY KEY (user_id, policy_name, project_id)
);
CREATE TABLE iam_access_keys (
  access_key_id TEXT COLLATE "C" PRIMARY KEY,
  user_id TEXT COLLATE "C" NOT NULL REFERENCES iam_users (id) ON DELETE CASCADE,
  sealed_secret TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
  description TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX iam_access_keys_by_user ON iam_access_keys (user_id, created_at, access_key_id);
CREATE TABLE iam_tokens (
  token_hash TEXT COLLATE "C" PRIMARY KEY,
  user_id TEXT COLLATE "C" NOT NULL REFERENCES iam_users (id) ON DELETE CASCADE,
  project_id TEXT COLLATE "C" NOT NULL,
  issued_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX iam_tokens_by_user ON iam_tokens (user_id);
CREATE INDEX iam_tokens_by_expiry ON iam_tokens (expires_at);
`
