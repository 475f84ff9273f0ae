/**
 * @module auth/identity
 * The identity model (IAM-like): accounts (domains) contain projects and users; users hold policies,
 * either account-wide or for one project; users own access keys (AK/SK) and get tokens.
 *
 * Ids of accounts, projects and users are 32 lowercase hex characters, as in IAM. Access key ids are
 * 20 uppercase letters and digits, as Huawei Cloud AKs. Secrets never appear here in clear: passwords
 * as scrypt hashes, secret keys sealed with the master key, tokens as SHA-256 hashes.
 */

/** 32 lowercase hex characters (IAM account, project and user ids). */
export const IAM_ID_PATTERN = /^[0-9a-f]{32}$/
/** Access key id: 20 uppercase letters or digits. */
export const ACCESS_KEY_ID_PATTERN = /^[A-Z0-9]{20}$/
/** Names of accounts, projects and users: 1-64 letters, digits, space, `_ - .`, not blank at the ends. */
export const IAM_NAME_PATTERN = /^[A-Za-z0-9_.-](?:[A-Za-z0-9 _.-]{0,62}[A-Za-z0-9_.-])?$/

export interface Account {
  readonly id: string
  readonly name: string
  readonly createdAt: number
}

export interface Project {
  readonly id: string
  readonly accountId: string
  readonly name: string
  readonly createdAt: number
}

export interface User {
  readonly id: string
  readonly accountId: string
  readonly name: string
  /** `scrypt$...` (see password-hash.ts), or null when the user cannot sign in with a password. */
  readonly passwordHash: string | null
  readonly enabled: boolean
  readonly createdAt: number
}

export type AccessKeyStatus = 'active' | 'inactive'

export interface AccessKey {
  readonly accessKeyId: string
  readonly userId: string
  /** The secret key sealed with the master key (secret-box.ts); bound to `accessKeyId`. */
  readonly sealedSecret: string
  readonly status: AccessKeyStatus
  readonly description: string
  readonly createdAt: number
}

/** A policy held by a user: in every project of the account (`projectId` null) or in one project. */
export interface PolicyGrant {
  readonly userId: string
  readonly policyName: string
  readonly projectId: string | null
}

/** A token as stored: only the SHA-256 of the token travels to the store. */
export interface TokenRecord {
  /** Lowercase hex SHA-256 of the token string. */
  readonly tokenHash: string
  readonly userId: string
  /** The project the token is scoped to. */
  readonly projectId: string
  readonly issuedAt: number
  readonly expiresAt: number
}

/** An authenticated caller, as the HTTP layer sees it after authentication. */
export interface Principal {
  readonly method: 'token' | 'aksk'
  readonly user: { readonly id: string; readonly name: string }
  readonly account: { readonly id: string; readonly name: string }
  /**
   * The project the credential is scoped to: the token's project, or `X-Project-Id` of a signed
   * request. Null for a signed request without `X-Project-Id` (any project of the account).
   */
  readonly projectId: string | null
  readonly accessKeyId: string | null
  readonly grants: readonly PolicyGrant[]
}
