/**
 * @module store/ports/identity
 * The identity port: accounts, projects, users, grants, access keys, token hashes.
 */
import type {
  AccessKey,
  AccessKeyStatus,
  Account,
  PolicyGrant,
  Project,
  TokenRecord,
  User,
} from '../../auth/identity.js'

/**
 * Identity: accounts, projects, users, policy grants, access keys and token hashes. Names are unique
 * per account (accounts: globally); a clash throws OCTS_ERR_IDENTITY_EXISTS. Deleting a user deletes
 * its grants, access keys and tokens in the same transaction.
 */
export interface IdentityStore {
  /** True when no account exists yet (first start). */
  isEmpty(): Promise<boolean>
  insertAccount(account: Account): Promise<void>
  getAccount(id: string): Promise<Account | undefined>
  findAccount(name: string): Promise<Account | undefined>
  /** Sorted by name. */
  listAccounts(): Promise<Account[]>

  insertProject(project: Project): Promise<void>
  getProject(id: string): Promise<Project | undefined>
  findProject(accountId: string, name: string): Promise<Project | undefined>
  /** Projects of the account (every project when `accountId` is undefined), sorted by (account, name). */
  listProjects(accountId?: string): Promise<Project[]>

  insertUser(user: User): Promise<void>
  getUser(id: string): Promise<User | undefined>
  findUser(accountId: string, name: string): Promise<User | undefined>
  /** Sorted by name. */
  listUsers(accountId: string): Promise<User[]>
  /** Sets the password hash. Throws OCTS_ERR_IDENTITY_NOT_FOUND if the user is gone. */
  setPassword(userId: string, passwordHash: string | null): Promise<void>
  /** Enables or disables. Throws OCTS_ERR_IDENTITY_NOT_FOUND if the user is gone. */
  setUserEnabled(userId: string, enabled: boolean): Promise<void>
  /** Deletes the user with its grants, access keys and tokens; returns false if it did not exist. */
  deleteUser(userId: string): Promise<boolean>

  /** Idempotent: granting a held policy again changes nothing. */
  grant(grant: PolicyGrant): Promise<void>
  /** Returns false if the grant did not exist. */
  revoke(grant: PolicyGrant): Promise<boolean>
  /** Grants of the user, sorted by (policy name, project id with account-wide first). */
  grantsOf(userId: string): Promise<PolicyGrant[]>

  insertAccessKey(key: AccessKey): Promise<void>
  getAccessKey(accessKeyId: string): Promise<AccessKey | undefined>
  /** Sorted by creation time, then id. */
  listAccessKeys(userId: string): Promise<AccessKey[]>
  /** Throws OCTS_ERR_IDENTITY_NOT_FOUND if the key is gone. */
  setAccessKeyStatus(accessKeyId: string, status: AccessKeyStatus): Promise<void>
  /** Returns false if the key did not exist. */
  deleteAccessKey(accessKeyId: string): Promise<boolean>

  insertToken(token: TokenRecord): Promise<void>
  getToken(tokenHash: string): Promise<TokenRecord | undefined>
  /** Revokes one token; returns false if it was not stored. */
  deleteToken(tokenHash: string): Promise<boolean>
  /** Revokes every token of the user; returns how many there were. */
  deleteTokensOf(userId: string): Promise<number>
  /** Deletes tokens that expired at or before `now`; returns the count. */
  purgeExpiredTokens(now: number): Promise<number>
}
