/**
 * @module auth/identity-admin
 * Administration of identities: accounts, projects, users, passwords, access keys and policy
 * grants. Used by `opencts admin` and by the first-start bootstrap; names are resolved here so that
 * callers speak in account and user names. Secrets leave this module only once, when created.
 */
import { OpenCtsError } from '../errors/index.js'
import type { Clock } from '../platform/clock.js'
import type { IdentityStore } from '../store/index.js'
import {
  ACCESS_KEY_ID_PATTERN,
  IAM_ID_PATTERN,
  IAM_NAME_PATTERN,
  type AccessKey,
  type AccessKeyStatus,
  type Account,
  type PolicyGrant,
  type Project,
  type User,
} from './identity.js'
import type { MasterKey } from './master-key.js'
import {
  DEFAULT_SCRYPT_COST,
  hashPassword,
  passwordProblem,
  type ScryptCost,
} from './password-hash.js'
import { findPolicy } from './policies.js'
import { newAccessKeyId, newIamId, newSecretKey } from './secrets.js'

/** Secret keys given by an operator: 16-128 printable ASCII characters without spaces. */
export const SECRET_KEY_PATTERN = /^[\x21-\x7e]{16,128}$/

export interface IdentityAdminDeps {
  readonly store: IdentityStore
  readonly clock: Clock
  readonly masterKey: MasterKey
  /** scrypt cost of new password hashes (tests lower it). */
  readonly passwordCost?: ScryptCost
}

/** A user with what it holds, for listings (no secret). */
export interface UserView {
  readonly user: Omit<User, 'passwordHash'> & { readonly hasPassword: boolean }
  readonly grants: readonly PolicyGrant[]
  readonly accessKeys: readonly Omit<AccessKey, 'sealedSecret'>[]
}

function invalid(message: string): OpenCtsError {
  return new OpenCtsError('OCTS_ERR_IDENTITY_INVALID', { message })
}

function notFound(message: string): OpenCtsError {
  return new OpenCtsError('OCTS_ERR_IDENTITY_NOT_FOUND', { message })
}

function checkName(kind: string, name: string): void {
  if (!IAM_NAME_PATTERN.test(name))
    throw invalid(
      `${kind} name ${JSON.stringify(name)} is invalid: use 1-64 letters, digits, spaces, _ - or . (no space at either end)`,
    )
}

function checkId(kind: string, id: string | undefined): string {
  if (id === undefined) return newIamId()
  if (!IAM_ID_PATTERN.test(id))
    throw invalid(`${kind} id ${JSON.stringify(id)} is invalid: use 32 lowercase hex characters`)
  return id
}

export class IdentityAdmin {
  readonly #store: IdentityStore
  readonly #clock: Clock
  readonly #masterKey: MasterKey
  readonly #cost: ScryptCost

  constructor(deps: IdentityAdminDeps) {
    this.#store = deps.store
    this.#clock = deps.clock
    this.#masterKey = deps.masterKey
    this.#cost = deps.passwordCost ?? DEFAULT_SCRYPT_COST
  }

  async createAccount(input: { name: string; id?: string }): Promise<Account> {
    checkName('account', input.name)
    const account = {
      id: checkId('account', input.id),
      name: input.name,
      createdAt: this.#clock.now(),
    }
    await this.#store.insertAccount(account)
    return account
  }

  async account(name: string): Promise<Account> {
    const account = await this.#store.findAccount(name)
    if (account === undefined) throw notFound(`no account named ${JSON.stringify(name)}`)
    return account
  }

  async createProject(input: { account: string; name: string; id?: string }): Promise<Project> {
    checkName('project', input.name)
    const account = await this.account(input.account)
    const project = {
      id: checkId('project', input.id),
      accountId: account.id,
      name: input.name,
      createdAt: this.#clock.now(),
    }
    await this.#store.insertProject(project)
    return project
  }

  /** The project of the account, by name or id. */
  async project(account: Account, nameOrId: string): Promise<Project> {
    const byId = IAM_ID_PATTERN.test(nameOrId) ? await this.#store.getProject(nameOrId) : undefined
    const project =
      byId?.accountId === account.id ? byId : await this.#store.findProject(account.id, nameOrId)
    if (project === undefined)
      throw notFound(`no project ${JSON.stringify(nameOrId)} in account ${account.name}`)
    return project
  }

  async createUser(input: { account: string; name: string; password?: string }): Promise<User> {
    checkName('user', input.name)
    const account = await this.account(input.account)
    const passwordHash = input.password === undefined ? null : await this.#hash(input.password)
    const user = {
      id: newIamId(),
      accountId: account.id,
      name: input.name,
      passwordHash,
      enabled: true,
      createdAt: this.#clock.now(),
    }
    await this.#store.insertUser(user)
    return user
  }

  async user(accountName: string, userName: string): Promise<User> {
    const account = await this.account(accountName)
    const user = await this.#store.findUser(account.id, userName)
    if (user === undefined)
      throw notFound(`no user ${JSON.stringify(userName)} in account ${account.name}`)
    return user
  }

  async setPassword(input: { account: string; user: string; password: string }): Promise<void> {
    const user = await this.user(input.account, input.user)
    await this.#store.setPassword(user.id, await this.#hash(input.password))
    // A new password ends every session opened with the old one.
    await this.#store.deleteTokensOf(user.id)
  }

  async setUserEnabled(input: { account: string; user: string; enabled: boolean }): Promise<void> {
    const user = await this.user(input.account, input.user)
    await this.#store.setUserEnabled(user.id, input.enabled)
    if (!input.enabled) await this.#store.deleteTokensOf(user.id)
  }

  async deleteUser(input: { account: string; user: string }): Promise<void> {
    const user = await this.user(input.account, input.user)
    await this.#store.deleteUser(user.id)
  }

  /** Creates an access key; the secret key is returned here and never again. */
  async createAccessKey(input: {
    account: string
    user: string
    accessKeyId?: string
    secretKey?: string
    description?: string
  }): Promise<{ accessKeyId: string; secretKey: string }> {
    const user = await this.user(input.account, input.user)
    const accessKeyId = input.accessKeyId ?? newAccessKeyId()
    if (!ACCESS_KEY_ID_PATTERN.test(accessKeyId))
      throw invalid('an access key id is 20 uppercase letters or digits')
    const secretKey = input.secretKey ?? newSecretKey()
    if (!SECRET_KEY_PATTERN.test(secretKey))
      throw invalid('a secret key is 16-128 printable ASCII characters without spaces')
    const description = input.description ?? ''
    if (description.length > 255)
      throw invalid('an access key description has at most 255 characters')
    await this.#store.insertAccessKey({
      accessKeyId,
      userId: user.id,
      sealedSecret: this.#masterKey.seal(secretKey, accessKeyId),
      status: 'active',
      description,
      createdAt: this.#clock.now(),
    })
    return { accessKeyId, secretKey }
  }

  async setAccessKeyStatus(accessKeyId: string, status: AccessKeyStatus): Promise<void> {
    await this.#store.setAccessKeyStatus(accessKeyId, status)
  }

  async deleteAccessKey(accessKeyId: string): Promise<void> {
    if (!(await this.#store.deleteAccessKey(accessKeyId)))
      throw notFound(`no access key ${accessKeyId}`)
  }

  async grant(input: {
    account: string
    user: string
    policy: string
    project?: string
  }): Promise<PolicyGrant> {
    const grant = await this.#grantOf(input)
    await this.#store.grant(grant)
    return grant
  }

  async revoke(input: {
    account: string
    user: string
    policy: string
    project?: string
  }): Promise<void> {
    const grant = await this.#grantOf(input)
    if (!(await this.#store.revoke(grant)))
      throw notFound(`user ${input.user} does not hold ${input.policy} there`)
  }

  /** Revokes every token of the user; returns how many there were. */
  async revokeTokens(input: { account: string; user: string }): Promise<number> {
    const user = await this.user(input.account, input.user)
    return this.#store.deleteTokensOf(user.id)
  }

  listAccounts(): Promise<Account[]> {
    return this.#store.listAccounts()
  }

  async listProjects(accountName?: string): Promise<Project[]> {
    if (accountName === undefined) return this.#store.listProjects()
    return this.#store.listProjects((await this.account(accountName)).id)
  }

  async listUsers(accountName: string): Promise<UserView[]> {
    const account = await this.account(accountName)
    const users = await this.#store.listUsers(account.id)
    return Promise.all(
      users.map(async ({ passwordHash, ...user }) => ({
        user: { ...user, hasPassword: passwordHash !== null },
        grants: await this.#store.grantsOf(user.id),
        accessKeys: (await this.#store.listAccessKeys(user.id)).map(
          ({ sealedSecret: _sealed, ...key }) => key,
        ),
      })),
    )
  }

  async #grantOf(input: {
    account: string
    user: string
    policy: string
    project?: string
  }): Promise<PolicyGrant> {
    if (findPolicy(input.policy) === undefined)
      throw notFound(`no policy named ${JSON.stringify(input.policy)} (see opencts admin policies)`)
    const account = await this.account(input.account)
    const user = await this.user(input.account, input.user)
    const projectId =
      input.project === undefined ? null : (await this.project(account, input.project)).id
    return { userId: user.id, policyName: input.policy, projectId }
  }

  async #hash(password: string): Promise<string> {
    const problem = passwordProblem(password)
    if (problem !== null) throw invalid(problem)
    return hashPassword(password, this.#cost)
  }
}
