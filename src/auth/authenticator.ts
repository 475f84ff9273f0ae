/**
 * @module auth/authenticator
 * Who is calling, and may they? Everything between the credential a request carries and the
 * decision to run it:
 * - `signIn`: the IAM password method of `POST /v3/auth/tokens`; issues a 24 h project-scoped token
 *   (stored as its SHA-256 only) and records a `login` trace (service `IAM`), rating `warning` on
 *   failure and `incident` when the failures of one source reach the throttling limit;
 * - `authenticateToken` / `accessKey` + `signedPrincipal`: the two ways an API request authenticates;
 * - `authorize`: the project or account scope of the credential, then the policies it holds;
 * - the failure throttle: too many failures from one source answer 429 for a while.
 *
 * Failures answer the same for an unknown user, a wrong password and a disabled user, and take the
 * same time (a dummy scrypt runs when there is no hash to check), so names cannot be probed.
 */
import { OpenCtsError } from '../errors/index.js'
import type { Caller, SelfAudit } from '../ingest/index.js'
import type { TraceRecord, UserInfo } from '../model/index.js'
import type { Clock } from '../platform/clock.js'
import type { IdentityStore } from '../store/index.js'
import type { FailureThrottle } from './failure-throttle.js'
import {
  ACCESS_KEY_ID_PATTERN,
  IAM_ID_PATTERN,
  type Account,
  type PolicyGrant,
  type Principal,
  type Project,
  type TokenRecord,
  type User,
} from './identity.js'
import type { MasterKey } from './master-key.js'
import {
  DEFAULT_SCRYPT_COST,
  MAX_PASSWORD_LENGTH,
  hashPassword,
  verifyPassword,
  type ScryptCost,
} from './password-hash.js'
import { findPolicy, isAllowed } from './policies.js'
import { TOKEN_PATTERN, newToken, tokenHash } from './secrets.js'

export const TOKEN_TTL_MS = 24 * 3_600_000

export interface AuthenticatorDeps {
  readonly store: IdentityStore
  readonly clock: Clock
  readonly masterKey: MasterKey
  readonly throttle: FailureThrottle
  readonly audit: SelfAudit
  /** Commits a self-audit trace (registers the project first) and publishes it. */
  readonly record: (trace: TraceRecord) => Promise<void>
  readonly tokenTtlMs?: number
  /** Cost of the dummy hash checked when a user has none (match the real hashes'). */
  readonly passwordCost?: ScryptCost
}

/** The body of a token answer (Keystone/IAM shape); the token itself goes in X-Subject-Token. */
export interface TokenBody {
  readonly token: {
    readonly methods: readonly string[]
    readonly expires_at: string
    readonly issued_at: string
    readonly user: {
      readonly id: string
      readonly name: string
      readonly domain: { readonly id: string; readonly name: string }
      readonly password_expires_at: string
    }
    readonly project: {
      readonly id: string
      readonly name: string
      readonly domain: { readonly id: string; readonly name: string }
    }
    readonly roles: readonly { readonly id: string; readonly name: string }[]
    readonly catalog: readonly unknown[]
  }
}

/** Where the request came from, for throttling and the login trace. */
export interface SignInContext {
  readonly caller: Caller
  /** Base URL of this API as the client reached it (for the token's service catalog). */
  readonly publicUrl: string
  readonly region: string
}

interface SignInRequest {
  readonly userName: string | null
  readonly userId: string | null
  readonly password: string
  readonly domainName: string | null
  readonly domainId: string | null
  readonly projectId: string | null
  readonly projectName: string | null
}

/** What an authorization decision is about. */
export type AuthTarget = { readonly projectId: string } | { readonly domainId: string }

function unauthenticated(reason: string): OpenCtsError {
  return new OpenCtsError('OCTS_ERR_UNAUTHENTICATED', {
    message: `Incorrect IAM authentication information: ${reason}`,
  })
}

function forbidden(message: string): OpenCtsError {
  return new OpenCtsError('OCTS_ERR_FORBIDDEN', { message })
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function optionalString(value: unknown, where: string): string | null {
  if (value === undefined) return null
  if (typeof value !== 'string' || value === '' || value.length > 256)
    throw new OpenCtsError('OCTS_ERR_INVALID_BODY', {
      message: `The message body is invalid: ${where} must be a non-empty string.`,
    })
  return value
}

function badBody(message: string): OpenCtsError {
  return new OpenCtsError('OCTS_ERR_INVALID_BODY', {
    message: `The message body is invalid: ${message}`,
  })
}

/** Parses the IAM password sign-in body (spec ims-glance-auth §3.8). Throws OCTS_ERR_INVALID_BODY. */
export function parseSignIn(body: unknown): SignInRequest {
  const auth = isRecord(body) ? body.auth : undefined
  if (!isRecord(auth)) throw badBody('expected {"auth": {"identity": ..., "scope": ...}}.')
  const identity = auth.identity
  if (!isRecord(identity)) throw badBody('auth.identity must be an object.')
  const methods = identity.methods
  if (!Array.isArray(methods) || !methods.includes('password'))
    throw badBody('auth.identity.methods must be ["password"] (the only method supported).')
  const password = isRecord(identity.password) ? identity.password : undefined
  const user = isRecord(password?.user) ? password.user : undefined
  if (user === undefined) throw badBody('auth.identity.password.user must be an object.')
  if (typeof user.password !== 'string' || user.password.length > MAX_PASSWORD_LENGTH * 4)
    throw badBody('auth.identity.password.user.password must be a string.')
  const domain = user.domain === undefined ? {} : user.domain
  if (!isRecord(domain)) throw badBody('auth.identity.password.user.domain must be an object.')
  const scope = auth.scope
  const project = isRecord(scope) ? scope.project : undefined
  if (!isRecord(project))
    throw badBody(
      'auth.scope.project must name the project ({"id": ...} or {"name": ...}); OpenCTS issues project-scoped tokens only.',
    )
  const request: SignInRequest = {
    userName: optionalString(user.name, 'auth.identity.password.user.name'),
    userId: optionalString(user.id, 'auth.identity.password.user.id'),
    password: user.password,
    domainName: optionalString(domain.name, 'auth.identity.password.user.domain.name'),
    domainId: optionalString(domain.id, 'auth.identity.password.user.domain.id'),
    projectId: optionalString(project.id, 'auth.scope.project.id'),
    projectName: optionalString(project.name, 'auth.scope.project.name'),
  }
  if (request.userId === null && request.userName === null)
    throw badBody('auth.identity.password.user needs "name" (with "domain") or "id".')
  if (request.userId === null && request.domainName === null && request.domainId === null)
    throw badBody(
      'auth.identity.password.user.domain needs "name" or "id" when the user is given by name.',
    )
  if (request.projectId === null && request.projectName === null)
    throw badBody('auth.scope.project needs "id" or "name".')
  return request
}

/** The request body of a sign-in as recorded in the trace: the password is never recorded. */
function redacted(body: unknown): unknown {
  return JSON.parse(
    JSON.stringify(body, (key, value: unknown) =>
      key === 'password' && typeof value === 'string' ? '******' : value,
    ),
  )
}

export class Authenticator {
  readonly #deps: AuthenticatorDeps
  readonly #ttl: number
  #dummyHash: Promise<string> | undefined

  constructor(deps: AuthenticatorDeps) {
    this.#deps = deps
    this.#ttl = deps.tokenTtlMs ?? TOKEN_TTL_MS
  }

  /** Throws 429 when the source is blocked after too many failures. */
  checkSource(source: string): void {
    const ms = this.#deps.throttle.blockedFor(source)
    if (ms > 0)
      throw new OpenCtsError('OCTS_ERR_AUTH_THROTTLED', { retryAfter: Math.ceil(ms / 1000) })
  }

  /** Counts a failed authentication of the source; true when it starts a block. */
  recordFailure(source: string): boolean {
    return this.#deps.throttle.recordFailure(source).blocked
  }

  /**
   * `POST /v3/auth/tokens` (password method, project scope). Returns the token and the body; throws
   * OCTS_ERR_INVALID_BODY, OCTS_ERR_SIGN_IN_FAILED or OCTS_ERR_AUTH_THROTTLED. Always recorded.
   */
  async signIn(body: unknown, context: SignInContext): Promise<{ token: string; body: TokenBody }> {
    const source = context.caller.sourceIp ?? 'unknown'
    this.checkSource(source)
    const request = parseSignIn(body)
    const { store, clock } = this.#deps
    const account = await this.#accountOf(request)
    const user = await this.#userOf(request, account)
    const passwordOk =
      user?.passwordHash != null
        ? await verifyPassword(request.password, user.passwordHash)
        : await verifyPassword(request.password, await this.#dummy()).then(() => false)
    const project = user === undefined ? undefined : await this.#projectOf(request, user.accountId)
    const userAccount =
      user === undefined ? account : (account ?? (await store.getAccount(user.accountId)))
    if (
      user === undefined ||
      !user.enabled ||
      !passwordOk ||
      project === undefined ||
      userAccount === undefined
    ) {
      const blocked = this.recordFailure(source)
      const error = blocked
        ? new OpenCtsError('OCTS_ERR_AUTH_THROTTLED', {
            retryAfter: Math.ceil(this.#deps.throttle.blockedFor(source) / 1000),
          })
        : new OpenCtsError('OCTS_ERR_SIGN_IN_FAILED')
      await this.#recordLogin({
        projectId: project?.id ?? (await this.#fallbackProject(userAccount)),
        user: {
          ...(user === undefined ? {} : { id: user.id }),
          name: user?.name ?? request.userName ?? request.userId ?? '',
          domain: {
            ...(userAccount === undefined ? {} : { id: userAccount.id, name: userAccount.name }),
          },
        },
        userId: user?.id ?? null,
        userName: user?.name ?? request.userName,
        request: body,
        response: error.toBody(),
        code: error.httpStatus,
        rating: blocked ? 'incident' : 'warning',
        caller: context.caller,
      })
      throw error
    }
    const now = clock.now()
    const token = newToken()
    const record: TokenRecord = {
      tokenHash: tokenHash(token),
      userId: user.id,
      projectId: project.id,
      issuedAt: now,
      expiresAt: now + this.#ttl,
    }
    await store.insertToken(record)
    const answer = await this.#tokenBody(record, user, userAccount, project, context)
    await this.#recordLogin({
      projectId: project.id,
      user: {
        id: user.id,
        name: user.name,
        domain: { id: userAccount.id, name: userAccount.name },
      },
      userId: user.id,
      userName: user.name,
      request: body,
      response: answer,
      code: 201,
      rating: 'normal',
      caller: context.caller,
    })
    return { token, body: answer }
  }

  /** The principal of a token, or throws 401 with the reason. */
  async authenticateToken(token: string): Promise<Principal> {
    if (!TOKEN_PATTERN.test(token)) throw unauthenticated('decrypt token fail')
    const { store, clock } = this.#deps
    const record = await store.getToken(tokenHash(token))
    if (record === undefined) throw unauthenticated('token is invalid or revoked')
    if (record.expiresAt <= clock.now())
      throw unauthenticated(`token expires, expires_at: ${isoTime(record.expiresAt)}`)
    const user = await store.getUser(record.userId)
    const account = user === undefined ? undefined : await store.getAccount(user.accountId)
    if (user === undefined || !user.enabled || account === undefined)
      throw unauthenticated('the user of the token is disabled or deleted')
    return this.#principal('token', user, account, record.projectId, null)
  }

  /**
   * The secret key of an active access key, and what is needed to build the principal once the
   * signature verifies. Throws 401 for an unknown, inactive or orphaned key.
   */
  async accessKey(
    accessKeyId: string,
  ): Promise<{ readonly secretKey: string; readonly user: User; readonly account: Account }> {
    const { store, masterKey } = this.#deps
    const key = ACCESS_KEY_ID_PATTERN.test(accessKeyId)
      ? await store.getAccessKey(accessKeyId)
      : undefined
    if (key === undefined) throw unauthenticated('Get secretKey failed, ak not exist')
    if (key.status !== 'active') throw unauthenticated('the access key is inactive')
    const user = await store.getUser(key.userId)
    const account = user === undefined ? undefined : await store.getAccount(user.accountId)
    if (user === undefined || !user.enabled || account === undefined)
      throw unauthenticated('the user of the access key is disabled or deleted')
    return { secretKey: masterKey.open(key.sealedSecret, key.accessKeyId), user, account }
  }

  /**
   * The principal of a verified signed request. `X-Project-Id` must be a project of the key's
   * account and `X-Domain-Id` (GlobalCredentials) the account itself, else 403.
   */
  async signedPrincipal(
    accessKeyId: string,
    user: User,
    account: Account,
    xProjectId: string | null,
    xDomainId: string | null = null,
  ): Promise<Principal> {
    if (xDomainId !== null && xDomainId !== account.id)
      throw forbidden(`The IAM user is not authorized to access account ${xDomainId}.`)
    if (xProjectId !== null) {
      const project = IAM_ID_PATTERN.test(xProjectId)
        ? await this.#deps.store.getProject(xProjectId)
        : undefined
      if (project?.accountId !== account.id)
        throw forbidden(`The IAM user is not authorized to access project ${xProjectId}.`)
    }
    return this.#principal('aksk', user, account, xProjectId, accessKeyId)
  }

  /** Throws OCTS_ERR_FORBIDDEN unless the principal may perform `action` on `target`. */
  async authorize(principal: Principal, action: string, target: AuthTarget): Promise<void> {
    let grants: readonly PolicyGrant[]
    if ('projectId' in target) {
      const project = IAM_ID_PATTERN.test(target.projectId)
        ? await this.#deps.store.getProject(target.projectId)
        : undefined
      if (project?.accountId !== principal.account.id)
        throw forbidden(
          `No permission: the credential is not valid for project ${target.projectId}.`,
        )
      if (principal.projectId !== null && principal.projectId !== target.projectId)
        throw forbidden(
          `No permission: the credential is scoped to project ${principal.projectId}, not ${target.projectId}.`,
        )
      grants = principal.grants.filter(
        (g) => g.projectId === null || g.projectId === target.projectId,
      )
    } else {
      if (target.domainId !== principal.account.id)
        throw forbidden(
          `No permission: the credential is not valid for account ${target.domainId}.`,
        )
      grants = principal.grants.filter(
        (g) => g.projectId === null || g.projectId === principal.projectId,
      )
    }
    const documents = grants.flatMap((g) => {
      const policy = findPolicy(g.policyName)
      return policy === undefined ? [] : [policy.document]
    })
    if (!isAllowed(documents, action))
      throw forbidden(
        `No permission, Please check roles. Policy doesn't allow ${action} to be performed.`,
      )
  }

  /** `GET /v3/auth/tokens`: the body of the caller's own live token `subject`. */
  async subjectToken(
    principal: Principal,
    subject: string,
    context: SignInContext,
  ): Promise<TokenBody> {
    const { store } = this.#deps
    const record = TOKEN_PATTERN.test(subject)
      ? await store.getToken(tokenHash(subject))
      : undefined
    if (
      record === undefined ||
      record.userId !== principal.user.id ||
      record.expiresAt <= this.#deps.clock.now()
    )
      throw new OpenCtsError('OCTS_ERR_SUBJECT_TOKEN')
    const user = await store.getUser(record.userId)
    const account = user === undefined ? undefined : await store.getAccount(user.accountId)
    const project = await store.getProject(record.projectId)
    if (user === undefined || account === undefined || project === undefined)
      throw new OpenCtsError('OCTS_ERR_SUBJECT_TOKEN')
    return this.#tokenBody(record, user, account, project, context)
  }

  /** `DELETE /v3/auth/tokens`: revokes the caller's own token `subject`. */
  async revokeSubjectToken(principal: Principal, subject: string): Promise<void> {
    const { store } = this.#deps
    const hash = TOKEN_PATTERN.test(subject) ? tokenHash(subject) : undefined
    const record = hash === undefined ? undefined : await store.getToken(hash)
    if (hash === undefined || record === undefined || record.userId !== principal.user.id)
      throw new OpenCtsError('OCTS_ERR_SUBJECT_TOKEN')
    await store.deleteToken(hash)
  }

  /**
   * Checks at start-up that the master key opens the stored secret keys (the first one found), so
   * that a lost or swapped key file is reported at once rather than as failing requests.
   * Throws an Error naming the problem.
   */
  async checkMasterKey(masterKeyFile: string): Promise<void> {
    const { store, masterKey } = this.#deps
    for (const account of await store.listAccounts()) {
      for (const user of await store.listUsers(account.id)) {
        const [key] = await store.listAccessKeys(user.id)
        if (key === undefined) continue
        try {
          masterKey.open(key.sealedSecret, key.accessKeyId)
          return
        } catch {
          throw new Error(
            `the master key ${masterKeyFile} (fingerprint ${masterKey.fingerprint}) does not open the secret keys stored in this database: restore the key that was used with it`,
          )
        }
      }
    }
  }

  /** Deletes expired tokens (run periodically). */
  purgeExpiredTokens(): Promise<number> {
    return this.#deps.store.purgeExpiredTokens(this.#deps.clock.now())
  }

  async #principal(
    method: Principal['method'],
    user: User,
    account: Account,
    projectId: string | null,
    accessKeyId: string | null,
  ): Promise<Principal> {
    return {
      method,
      user: { id: user.id, name: user.name },
      account: { id: account.id, name: account.name },
      projectId,
      accessKeyId,
      grants: await this.#deps.store.grantsOf(user.id),
    }
  }

  async #accountOf(request: SignInRequest): Promise<Account | undefined> {
    const { store } = this.#deps
    if (request.domainId !== null) return store.getAccount(request.domainId)
    if (request.domainName !== null) return store.findAccount(request.domainName)
    return undefined
  }

  async #userOf(request: SignInRequest, account: Account | undefined): Promise<User | undefined> {
    const { store } = this.#deps
    if (request.userId !== null) {
      const user = await store.getUser(request.userId)
      return account === undefined || user?.accountId === account.id ? user : undefined
    }
    if (account === undefined || request.userName === null) return undefined
    return store.findUser(account.id, request.userName)
  }

  async #projectOf(request: SignInRequest, accountId: string): Promise<Project | undefined> {
    const { store } = this.#deps
    const project =
      request.projectId !== null
        ? await store.getProject(request.projectId)
        : await store.findProject(accountId, request.projectName ?? '')
    if (project?.accountId !== accountId) return undefined
    if (request.projectName !== null && project.name !== request.projectName) return undefined
    return project
  }

  /** Where a failed sign-in is recorded when its project is unknown: the account's first project, else the oldest project. */
  async #fallbackProject(account: Account | undefined): Promise<string | undefined> {
    const { store } = this.#deps
    const candidates = await store.listProjects(account?.id)
    const all = candidates.length > 0 ? candidates : await store.listProjects()
    return all.reduce<Project | undefined>(
      (oldest, p) => (oldest === undefined || p.createdAt < oldest.createdAt ? p : oldest),
      undefined,
    )?.id
  }

  #dummy(): Promise<string> {
    this.#dummyHash ??= hashPassword(
      'not a password of anyone',
      this.#deps.passwordCost ?? DEFAULT_SCRYPT_COST,
    )
    return this.#dummyHash
  }

  async #tokenBody(
    record: TokenRecord,
    user: User,
    account: Account,
    project: Project,
    context: SignInContext,
  ): Promise<TokenBody> {
    const domain = { id: account.id, name: account.name }
    const grants = await this.#deps.store.grantsOf(user.id)
    const roles = grants
      .filter((g) => g.projectId === null || g.projectId === project.id)
      .map((g) => ({ id: g.policyName, name: g.policyName }))
    return {
      token: {
        methods: ['password'],
        expires_at: isoTime(record.expiresAt),
        issued_at: isoTime(record.issuedAt),
        user: { id: user.id, name: user.name, domain, password_expires_at: '' },
        project: { id: project.id, name: project.name, domain },
        roles,
        catalog: [
          {
            id: 'cts',
            name: 'cts',
            type: 'cts',
            endpoints: [
              {
                id: 'cts-public',
                interface: 'public',
                region: context.region,
                region_id: context.region,
                url: `${context.publicUrl}/v3/${project.id}`,
              },
            ],
          },
        ],
      },
    }
  }

  async #recordLogin(event: {
    projectId: string | undefined
    user: UserInfo
    userId: string | null
    userName: string | null
    request: unknown
    response: unknown
    code: number
    rating: TraceRecord['trace_rating']
    caller: Caller
  }): Promise<void> {
    if (event.projectId === undefined) return // no project exists at all: nowhere to record
    const trace = this.#deps.audit.trace({
      projectId: event.projectId,
      serviceType: 'IAM',
      traceName: 'login',
      resourceType: 'user',
      resourceId: event.userId,
      resourceName: event.userName,
      request: redacted(event.request),
      response: event.response,
      code: event.code,
      rating: event.rating,
      caller: { ...event.caller, user: event.user },
    })
    await this.#deps.record(trace)
  }
}
