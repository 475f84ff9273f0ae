/**
 * @module store/sqlite/sqlite-identity-store
 * IdentityStore on SQLite: accounts, projects, users, policy grants, access keys and token hashes
 * in the `iam_*` tables of schema.ts. Uniqueness (account names globally, project and user names
 * per account, every id) is enforced by the schema; a clash becomes OCTS_ERR_IDENTITY_EXISTS, and
 * a row whose account or user does not exist becomes OCTS_ERR_IDENTITY_NOT_FOUND.
 */
import { OpenCtsError } from '../../errors/index.js'
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
import { run, sqliteCode } from './driver-errors.js'
import type { SqliteDatabase, SqliteStatement } from './sqlite-database.js'

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

/** The catalogue error for a constraint failure described in `clash`, or `error` unchanged. */
function clashError(error: unknown, clash: Clash): unknown {
  const code = sqliteCode(error)
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' && clash.primaryKey !== undefined)
    return new OpenCtsError('OCTS_ERR_IDENTITY_EXISTS', { message: clash.primaryKey, cause: error })
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' && clash.unique !== undefined)
    return new OpenCtsError('OCTS_ERR_IDENTITY_EXISTS', { message: clash.unique, cause: error })
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY' && clash.parent !== undefined)
    return new OpenCtsError('OCTS_ERR_IDENTITY_NOT_FOUND', { message: clash.parent, cause: error })
  return error
}

// SELECT lists aliased to the model's field names; users and grants need one conversion each.
const ACCOUNT = 'SELECT id, name, created_at AS createdAt FROM iam_accounts'
const PROJECT =
  'SELECT id, account_id AS accountId, name, created_at AS createdAt FROM iam_projects'
const USER = `SELECT id, account_id AS accountId, name, password_hash AS passwordHash, enabled,
  created_at AS createdAt FROM iam_users`
const GRANT =
  'SELECT user_id AS userId, policy_name AS policyName, project_id AS projectId FROM iam_grants'
const ACCESS_KEY = `SELECT access_key_id AS accessKeyId, user_id AS userId,
  sealed_secret AS sealedSecret, status, description, created_at AS createdAt FROM iam_access_keys`
const TOKEN = `SELECT token_hash AS tokenHash, user_id AS userId, project_id AS projectId,
  issued_at AS issuedAt, expires_at AS expiresAt FROM iam_tokens`

type UserRow = Omit<User, 'enabled'> & { enabled: number }

const toUser = (r: UserRow): User => ({ ...r, enabled: r.enabled === 1 })

const toGrant = (r: PolicyGrant): PolicyGrant =>
  r.projectId === ACCOUNT_WIDE ? { ...r, projectId: null } : r

const same = <T>(row: T): T => row

export class SqliteIdentityStore implements IdentityStore {
  readonly #db: SqliteDatabase
  readonly #statements = new Map<string, SqliteStatement>()
  readonly #deleteUser: (userId: string) => boolean

  constructor(db: SqliteDatabase) {
    this.#db = db
    this.#deleteUser = db.transaction((userId: string) => {
      // Explicit, so the cascade does not depend on `foreign_keys = ON`.
      this.#sql('DELETE FROM iam_grants WHERE user_id = ?').run(userId)
      this.#sql('DELETE FROM iam_access_keys WHERE user_id = ?').run(userId)
      this.#sql('DELETE FROM iam_tokens WHERE user_id = ?').run(userId)
      return this.#sql('DELETE FROM iam_users WHERE id = ?').run(userId).changes > 0
    })
  }

  /** The prepared statement for `sql`, prepared on first use. */
  #sql(sql: string): SqliteStatement {
    let statement = this.#statements.get(sql)
    if (statement === undefined) {
      statement = this.#db.prepare(sql)
      this.#statements.set(sql, statement)
    }
    return statement
  }

  #get<R, T>(sql: string, params: readonly unknown[], map: (row: R) => T): Promise<T | undefined> {
    return run('read', () => {
      const row = this.#sql(sql).get(...params) as R | undefined
      return row === undefined ? undefined : map(row)
    })
  }

  #all<R, T>(sql: string, params: readonly unknown[], map: (row: R) => T): Promise<T[]> {
    return run('read', () => (this.#sql(sql).all(...params) as R[]).map(map))
  }

  #insert(sql: string, params: readonly unknown[], clash: Clash): Promise<void> {
    return run('write', () => {
      try {
        this.#sql(sql).run(...params)
      } catch (error) {
        throw clashError(error, clash)
      }
    })
  }

  /** Runs a write statement; returns the number of rows changed. */
  #change(sql: string, params: readonly unknown[]): Promise<number> {
    return run('write', () => this.#sql(sql).run(...params).changes)
  }

  /** Runs an UPDATE that must hit a row, else throws OCTS_ERR_IDENTITY_NOT_FOUND with `missing`. */
  #update(sql: string, params: readonly unknown[], missing: string): Promise<void> {
    return run('write', () => {
      if (this.#sql(sql).run(...params).changes === 0)
        throw new OpenCtsError('OCTS_ERR_IDENTITY_NOT_FOUND', { message: missing })
    })
  }

  isEmpty(): Promise<boolean> {
    return run('read', () => this.#sql('SELECT 1 FROM iam_accounts LIMIT 1').get() === undefined)
  }

  insertAccount(account: Account): Promise<void> {
    return this.#insert(
      'INSERT INTO iam_accounts (id, name, created_at) VALUES (?, ?, ?)',
      [account.id, account.name, account.createdAt],
      {
        primaryKey: `account id ${account.id} already exists`,
        unique: `account ${account.name} already exists`,
      },
    )
  }

  getAccount(id: string): Promise<Account | undefined> {
    return this.#get(`${ACCOUNT} WHERE id = ?`, [id], same<Account>)
  }

  findAccount(name: string): Promise<Account | undefined> {
    return this.#get(`${ACCOUNT} WHERE name = ?`, [name], same<Account>)
  }

  listAccounts(): Promise<Account[]> {
    return this.#all(`${ACCOUNT} ORDER BY name`, [], same<Account>)
  }

  insertProject(project: Project): Promise<void> {
    return this.#insert(
      'INSERT INTO iam_projects (id, account_id, name, created_at) VALUES (?, ?, ?, ?)',
      [project.id, project.accountId, project.name, project.createdAt],
      {
        primaryKey: `project id ${project.id} already exists`,
        unique: `project ${project.name} already exists in account ${project.accountId}`,
        parent: `account ${project.accountId} does not exist`,
      },
    )
  }

  getProject(id: string): Promise<Project | undefined> {
    return this.#get(`${PROJECT} WHERE id = ?`, [id], same<Project>)
  }

  findProject(accountId: string, name: string): Promise<Project | undefined> {
    return this.#get(
      `${PROJECT} WHERE account_id = ? AND name = ?`,
      [accountId, name],
      same<Project>,
    )
  }

  listProjects(accountId?: string): Promise<Project[]> {
    return accountId === undefined
      ? this.#all(`${PROJECT} ORDER BY account_id, name`, [], same<Project>)
      : this.#all(`${PROJECT} WHERE account_id = ? ORDER BY name`, [accountId], same<Project>)
  }

  insertUser(user: User): Promise<void> {
    return this.#insert(
      `INSERT INTO iam_users (id, account_id, name, password_hash, enabled, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      [user.id, user.accountId, user.name, user.passwordHash, user.enabled ? 1 : 0, user.createdAt],
      {
        primaryKey: `user id ${user.id} already exists`,
        unique: `user ${user.name} already exists in account ${user.accountId}`,
        parent: `account ${user.accountId} does not exist`,
      },
    )
  }

  getUser(id: string): Promise<User | undefined> {
    return this.#get(`${USER} WHERE id = ?`, [id], toUser)
  }

  findUser(accountId: string, name: string): Promise<User | undefined> {
    return this.#get(`${USER} WHERE account_id = ? AND name = ?`, [accountId, name], toUser)
  }

  listUsers(accountId: string): Promise<User[]> {
    return this.#all(`${USER} WHERE account_id = ? ORDER BY name`, [accountId], toUser)
  }

  setPassword(userId: string, passwordHash: string | null): Promise<void> {
    return this.#update(
      'UPDATE iam_users SET password_hash = ? WHERE id = ?',
      [passwordHash, userId],
      `user ${userId} does not exist`,
    )
  }

  setUserEnabled(userId: string, enabled: boolean): Promise<void> {
    return this.#update(
      'UPDATE iam_users SET enabled = ? WHERE id = ?',
      [enabled ? 1 : 0, userId],
      `user ${userId} does not exist`,
    )
  }

  deleteUser(userId: string): Promise<boolean> {
    return run('write', () => this.#deleteUser(userId))
  }

  grant(grant: PolicyGrant): Promise<void> {
    return this.#insert(
      `INSERT INTO iam_grants (user_id, policy_name, project_id) VALUES (?, ?, ?)
       ON CONFLICT (user_id, policy_name, project_id) DO NOTHING`,
      [grant.userId, grant.policyName, grant.projectId ?? ACCOUNT_WIDE],
      { parent: `user ${grant.userId} does not exist` },
    )
  }

  async revoke(grant: PolicyGrant): Promise<boolean> {
    const changes = await this.#change(
      'DELETE FROM iam_grants WHERE user_id = ? AND policy_name = ? AND project_id = ?',
      [grant.userId, grant.policyName, grant.projectId ?? ACCOUNT_WIDE],
    )
    return changes > 0
  }

  grantsOf(userId: string): Promise<PolicyGrant[]> {
    // '' (account-wide) sorts before every project id.
    return this.#all(
      `${GRANT} WHERE user_id = ? ORDER BY policy_name, project_id`,
      [userId],
      toGrant,
    )
  }

  insertAccessKey(key: AccessKey): Promise<void> {
    return this.#insert(
      `INSERT INTO iam_access_keys
       (access_key_id, user_id, sealed_secret, status, description, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      [key.accessKeyId, key.userId, key.sealedSecret, key.status, key.description, key.createdAt],
      {
        primaryKey: `access key ${key.accessKeyId} already exists`,
        parent: `user ${key.userId} does not exist`,
      },
    )
  }

  getAccessKey(accessKeyId: string): Promise<AccessKey | undefined> {
    return this.#get(`${ACCESS_KEY} WHERE access_key_id = ?`, [accessKeyId], same<AccessKey>)
  }

  listAccessKeys(userId: string): Promise<AccessKey[]> {
    return this.#all(
      `${ACCESS_KEY} WHERE user_id = ? ORDER BY created_at, access_key_id`,
      [userId],
      same<AccessKey>,
    )
  }

  setAccessKeyStatus(accessKeyId: string, status: AccessKeyStatus): Promise<void> {
    return this.#update(
      'UPDATE iam_access_keys SET status = ? WHERE access_key_id = ?',
      [status, accessKeyId],
      `access key ${accessKeyId} does not exist`,
    )
  }

  async deleteAccessKey(accessKeyId: string): Promise<boolean> {
    const changes = await this.#change('DELETE FROM iam_access_keys WHERE access_key_id = ?', [
      accessKeyId,
    ])
    return changes > 0
  }

  insertToken(token: TokenRecord): Promise<void> {
    return this.#insert(
      `INSERT INTO iam_tokens (token_hash, user_id, project_id, issued_at, expires_at)
       VALUES (?, ?, ?, ?, ?)`,
      [token.tokenHash, token.userId, token.projectId, token.issuedAt, token.expiresAt],
      {
        // The hash is not a secret, but there is no need to repeat it.
        primaryKey: 'the token is already stored',
        parent: `user ${token.userId} does not exist`,
      },
    )
  }

  getToken(tokenHash: string): Promise<TokenRecord | undefined> {
    return this.#get(`${TOKEN} WHERE token_hash = ?`, [tokenHash], same<TokenRecord>)
  }

  async deleteToken(tokenHash: string): Promise<boolean> {
    return (await this.#change('DELETE FROM iam_tokens WHERE token_hash = ?', [tokenHash])) > 0
  }

  deleteTokensOf(userId: string): Promise<number> {
    return this.#change('DELETE FROM iam_tokens WHERE user_id = ?', [userId])
  }

  purgeExpiredTokens(now: number): Promise<number> {
    return this.#change('DELETE FROM iam_tokens WHERE expires_at <= ?', [now])
  }
}
