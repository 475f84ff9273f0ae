/**
 * @module store/postgres/postgres-identity-store
 * IdentityStore on PostgreSQL: accounts, projects, users, policy grants, access keys and token
 * hashes in the `iam_*` tables of schema-identity.ts, with the SQLite engine's behaviour. Every
 * uniqueness rule is a constraint, so two nodes inserting the same name at once cannot both win:
 * a taken id or name becomes OCTS_ERR_IDENTITY_EXISTS, a row whose account or user does not exist
 * (foreign key) OCTS_ERR_IDENTITY_NOT_FOUND. Deleting a user removes its grants, access keys and
 * tokens in one transaction.
 */
import { OpenCtsError, isOpenCtsError } from '../../errors/index.js'
import type {
  AccessKey,
  AccessKeyStatus,
  Account,
  PolicyGrant,
  Project,
  TokenRecord,
  User,
} from '../../auth/identity.js'
import type { IdentityStore } from '../store.js'
import { pgCode } from './driver-errors.js'
import type { PgDatabase } from './pg-database.js'

/** An account-wide grant (`projectId` null) is stored with this project id. */
const ACCOUNT_WIDE = ''

/** What an INSERT clashed with, in words, by the constraint that failed. */
interface Clash {
  /** The primary key (an id) is taken. */
  readonly primaryKey?: string
  /** Another unique key (a name) is taken. */
  readonly unique?: string
  /** The referenced account or user does not exist. */
  readonly parent?: string
}

/** The driver error under a store error converted by PgDatabase (or `error` itself). */
function driverError(error: unknown): unknown {
  return isOpenCtsError(error) && error.cause !== undefined ? error.cause : error
}

/** The catalogue error for a constraint failure described in `clash`, or `error` unchanged. */
function clashError(error: unknown, clash: Clash): unknown {
  const cause = driverError(error)
  const code = pgCode(cause)
  const constraint =
    typeof cause === 'object' && cause !== null && 'constraint' in cause
      ? cause.constraint
      : undefined
  const onPrimaryKey = typeof constraint === 'string' && constraint.endsWith('_pkey')
  if (code === '23505' && onPrimaryKey && clash.primaryKey !== undefined)
    return new OpenCtsError('OCTS_ERR_IDENTITY_EXISTS', { message: clash.primaryKey, cause })
  if (code === '23505' && !onPrimaryKey && clash.unique !== undefined)
    return new OpenCtsError('OCTS_ERR_IDENTITY_EXISTS', { message: clash.unique, cause })
  if (code === '23503' && clash.parent !== undefined)
    return new OpenCtsError('OCTS_ERR_IDENTITY_NOT_FOUND', { message: clash.parent, cause })
  return error
}

// SELECT lists aliased to the model's field names.
const ACCOUNT = 'SELECT id, name, created_at AS "createdAt" FROM iam_accounts'
const PROJECT =
  'SELECT id, account_id AS "accountId", name, created_at AS "createdAt" FROM iam_projects'
const USER = `SELECT id, account_id AS "accountId", name, password_hash AS "passwordHash", enabled,
  created_at AS "createdAt" FROM iam_users`
const GRANT = `SELECT user_id AS "userId", policy_name AS "policyName", project_id AS "projectId"
  FROM iam_grants`
const ACCESS_KEY = `SELECT access_key_id AS "accessKeyId", user_id AS "userId",
  sealed_secret AS "sealedSecret", status, description, created_at AS "createdAt"
  FROM iam_access_keys`
const TOKEN = `SELECT token_hash AS "tokenHash", user_id AS "userId", project_id AS "projectId",
  issued_at AS "issuedAt", expires_at AS "expiresAt" FROM iam_tokens`

const toGrant = (r: PolicyGrant): PolicyGrant =>
  r.projectId === ACCOUNT_WIDE ? { ...r, projectId: null } : r

export class PgIdentityStore implements IdentityStore {
  readonly #db: PgDatabase

  constructor(db: PgDatabase) {
    this.#db = db
  }

  async #get<T>(sql: string, params: readonly unknown[]): Promise<T | undefined> {
    const rows = await this.#db.query<T & object>('read', sql, params)
    return rows[0]
  }

  #all<T>(sql: string, params: readonly unknown[]): Promise<T[]> {
    return this.#db.query<T & object>('read', sql, params)
  }

  async #insert(sql: string, params: readonly unknown[], clash: Clash): Promise<void> {
    try {
      await this.#db.query('write', sql, params)
    } catch (error) {
      throw clashError(error, clash)
    }
  }

  /** Runs a write statement ending in `RETURNING 1`; returns the number of rows changed. */
  async #change(sql: string, params: readonly unknown[]): Promise<number> {
    const rows = await this.#db.query<{ n: number }>(
      'write',
      `WITH changed AS (${sql}) SELECT count(*) AS n FROM changed`,
      params,
    )
    return rows[0]?.n ?? 0
  }

  /** Runs an UPDATE that must hit a row, else throws OCTS_ERR_IDENTITY_NOT_FOUND with `missing`. */
  async #update(sql: string, params: readonly unknown[], missing: string): Promise<void> {
    if ((await this.#change(sql, params)) === 0)
      throw new OpenCtsError('OCTS_ERR_IDENTITY_NOT_FOUND', { message: missing })
  }

  async isEmpty(): Promise<boolean> {
    return (await this.#get('SELECT 1 AS one FROM iam_accounts LIMIT 1', [])) === undefined
  }

  insertAccount(account: Account): Promise<void> {
    return this.#insert(
      'INSERT INTO iam_accounts (id, name, created_at) VALUES ($1, $2, $3)',
      [account.id, account.name, account.createdAt],
      {
        primaryKey: `account id ${account.id} already exists`,
        unique: `account ${account.name} already exists`,
      },
    )
  }

  getAccount(id: string): Promise<Account | undefined> {
    return this.#get(`${ACCOUNT} WHERE id = $1`, [id])
  }

  findAccount(name: string): Promise<Account | undefined> {
    return this.#get(`${ACCOUNT} WHERE name = $1`, [name])
  }

  listAccounts(): Promise<Account[]> {
    return this.#all(`${ACCOUNT} ORDER BY name`, [])
  }

  insertProject(project: Project): Promise<void> {
    return this.#insert(
      'INSERT INTO iam_projects (id, account_id, name, created_at) VALUES ($1, $2, $3, $4)',
      [project.id, project.accountId, project.name, project.createdAt],
      {
        primaryKey: `project id ${project.id} already exists`,
        unique: `project ${project.name} already exists in account ${project.accountId}`,
        parent: `account ${project.accountId} does not exist`,
      },
    )
  }

  getProject(id: string): Promise<Project | undefined> {
    return this.#get(`${PROJECT} WHERE id = $1`, [id])
  }

  findProject(accountId: string, name: string): Promise<Project | undefined> {
    return this.#get(`${PROJECT} WHERE account_id = $1 AND name = $2`, [accountId, name])
  }

  listProjects(accountId?: string): Promise<Project[]> {
    return accountId === undefined
      ? this.#all(`${PROJECT} ORDER BY account_id, name`, [])
      : this.#all(`${PROJECT} WHERE account_id = $1 ORDER BY name`, [accountId])
  }

  insertUser(user: User): Promise<void> {
    return this.#insert(
      `INSERT INTO iam_users (id, account_id, name, password_hash, enabled, created_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [user.id, user.accountId, user.name, user.passwordHash, user.enabled, user.createdAt],
      {
        primaryKey: `user id ${user.id} already exists`,
        unique: `user ${user.name} already exists in account ${user.accountId}`,
        parent: `account ${user.accountId} does not exist`,
      },
    )
  }

  getUser(id: string): Promise<User | undefined> {
    return this.#get(`${USER} WHERE id = $1`, [id])
  }

  findUser(accountId: string, name: string): Promise<User | undefined> {
    return this.#get(`${USER} WHERE account_id = $1 AND name = $2`, [accountId, name])
  }

  listUsers(accountId: string): Promise<User[]> {
    return this.#all(`${USER} WHERE account_id = $1 ORDER BY name`, [accountId])
  }

  setPassword(userId: string, passwordHash: string | null): Promise<void> {
    return this.#update(
      'UPDATE iam_users SET password_hash = $1 WHERE id = $2 RETURNING 1',
      [passwordHash, userId],
      `user ${userId} does not exist`,
    )
  }

  setUserEnabled(userId: string, enabled: boolean): Promise<void> {
    return this.#update(
      'UPDATE iam_users SET enabled = $1 WHERE id = $2 RETURNING 1',
      [enabled, userId],
      `user ${userId} does not exist`,
    )
  }

  deleteUser(userId: string): Promise<boolean> {
    // Explicit deletes (the foreign keys cascade too), in one transaction.
    return this.#db.transaction(async (tx) => {
      await tx.query('DELETE FROM iam_grants WHERE user_id = $1', [userId])
      await tx.query('DELETE FROM iam_access_keys WHERE user_id = $1', [userId])
      await tx.query('DELETE FROM iam_tokens WHERE user_id = $1', [userId])
      const { rowCount } = await tx.query('DELETE FROM iam_users WHERE id = $1', [userId])
      return (rowCount ?? 0) > 0
    })
  }

  grant(grant: PolicyGrant): Promise<void> {
    return this.#insert(
      `INSERT INTO iam_grants (user_id, policy_name, project_id) VALUES ($1, $2, $3)
       ON CONFLICT (user_id, policy_name, project_id) DO NOTHING`,
      [grant.userId, grant.policyName, grant.projectId ?? ACCOUNT_WIDE],
      { parent: `user ${grant.userId} does not exist` },
    )
  }

  async revoke(grant: PolicyGrant): Promise<boolean> {
    const changes = await this.#change(
      `DELETE FROM iam_grants WHERE user_id = $1 AND policy_name = $2 AND project_id = $3
       RETURNING 1`,
      [grant.userId, grant.policyName, grant.projectId ?? ACCOUNT_WIDE],
    )
    return changes > 0
  }

  async grantsOf(userId: string): Promise<PolicyGrant[]> {
    // '' (account-wide) sorts before every project id.
    const rows = await this.#all<PolicyGrant>(
      `${GRANT} WHERE user_id = $1 ORDER BY policy_name, project_id`,
      [userId],
    )
    return rows.map(toGrant)
  }

  insertAccessKey(key: AccessKey): Promise<void> {
    return this.#insert(
      `INSERT INTO iam_access_keys
       (access_key_id, user_id, sealed_secret, status, description, created_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [key.accessKeyId, key.userId, key.sealedSecret, key.status, key.description, key.createdAt],
      {
        primaryKey: `access key ${key.accessKeyId} already exists`,
        parent: `user ${key.userId} does not exist`,
      },
    )
  }

  getAccessKey(accessKeyId: string): Promise<AccessKey | undefined> {
    return this.#get(`${ACCESS_KEY} WHERE access_key_id = $1`, [accessKeyId])
  }

  listAccessKeys(userId: string): Promise<AccessKey[]> {
    return this.#all(`${ACCESS_KEY} WHERE user_id = $1 ORDER BY created_at, access_key_id`, [
      userId,
    ])
  }

  setAccessKeyStatus(accessKeyId: string, status: AccessKeyStatus): Promise<void> {
    return this.#update(
      'UPDATE iam_access_keys SET status = $1 WHERE access_key_id = $2 RETURNING 1',
      [status, accessKeyId],
      `access key ${accessKeyId} does not exist`,
    )
  }

  async deleteAccessKey(accessKeyId: string): Promise<boolean> {
    const changes = await this.#change(
      'DELETE FROM iam_access_keys WHERE access_key_id = $1 RETURNING 1',
      [accessKeyId],
    )
    return changes > 0
  }

  insertToken(token: TokenRecord): Promise<void> {
    return this.#insert(
      `INSERT INTO iam_tokens (token_hash, user_id, project_id, issued_at, expires_at)
       VALUES ($1, $2, $3, $4, $5)`,
      [token.tokenHash, token.userId, token.projectId, token.issuedAt, token.expiresAt],
      {
        // The hash is not a secret, but there is no need to repeat it.
        primaryKey: 'the token is already stored',
        parent: `user ${token.userId} does not exist`,
      },
    )
  }

  getToken(tokenHash: string): Promise<TokenRecord | undefined> {
    return this.#get(`${TOKEN} WHERE token_hash = $1`, [tokenHash])
  }

  async deleteToken(tokenHash: string): Promise<boolean> {
    const changes = await this.#change('DELETE FROM iam_tokens WHERE token_hash = $1 RETURNING 1', [
      tokenHash,
    ])
    return changes > 0
  }

  deleteTokensOf(userId: string): Promise<number> {
    return this.#change('DELETE FROM iam_tokens WHERE user_id = $1 RETURNING 1', [userId])
  }

  purgeExpiredTokens(now: number): Promise<number> {
    return this.#change('DELETE FROM iam_tokens WHERE expires_at <= $1 RETURNING 1', [now])
  }
}
