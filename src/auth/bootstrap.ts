/**
 * @module auth/bootstrap
 * First start: when the data directory holds no account, creates the administrator — an account,
 * a project, a user with a password and an access key, holding `CTS Administrator` in every
 * project of the account. Values come from `OPENCTS_ADMIN_*` when given (as container images of
 * other servers take `POSTGRES_PASSWORD`), else are generated. Every value is checked before
 * anything is created, so a bad value never leaves a half-made administrator behind.
 */
import { OpenCtsError } from '../errors/index.js'
import type { IdentityStore } from '../store/index.js'
import { ACCESS_KEY_ID_PATTERN, IAM_ID_PATTERN, IAM_NAME_PATTERN } from './identity.js'
import { SECRET_KEY_PATTERN, type IdentityAdmin } from './identity-admin.js'
import { passwordProblem } from './password-hash.js'
import { newAccessKeyId, newPassword, newSecretKey } from './secrets.js'

export const ADMIN_POLICY = 'CTS Administrator'

export interface BootstrapInput {
  readonly account?: string
  readonly user?: string
  readonly password?: string
  readonly project?: string
  readonly projectId?: string
  readonly accessKey?: string
  readonly secretKey?: string
}

/** The administrator created on first start, secrets included (shown once). */
export interface AdminCredentials {
  readonly account: string
  readonly accountId: string
  readonly projectName: string
  readonly projectId: string
  readonly user: string
  readonly userId: string
  readonly password: string
  readonly accessKey: string
  readonly secretKey: string
  /** Which values came from OPENCTS_ADMIN_* rather than being generated. */
  readonly given: readonly (keyof BootstrapInput)[]
}

function invalid(name: string, reason: string): OpenCtsError {
  return new OpenCtsError('OCTS_ERR_IDENTITY_INVALID', { message: `${name}: ${reason}` })
}

/** Checks the given values; throws OCTS_ERR_IDENTITY_INVALID naming the environment variable. */
export function checkBootstrapInput(
  input: BootstrapInput,
  region: string,
): Required<Omit<BootstrapInput, 'projectId'>> & { projectId?: string } {
  const values = {
    account: input.account ?? 'opencts',
    user: input.user ?? 'admin',
    project: input.project ?? region,
    password: input.password ?? newPassword(),
    accessKey: input.accessKey ?? newAccessKeyId(),
    secretKey: input.secretKey ?? newSecretKey(),
  }
  for (const key of ['account', 'user', 'project'] as const)
    if (!IAM_NAME_PATTERN.test(values[key]))
      throw invalid(
        `OPENCTS_ADMIN_${key.toUpperCase()}`,
        'use 1-64 letters, digits, spaces, _ - or .',
      )
  if (input.projectId !== undefined && !IAM_ID_PATTERN.test(input.projectId))
    throw invalid('OPENCTS_ADMIN_PROJECT_ID', 'a project id is 32 lowercase hex characters')
  const problem = passwordProblem(values.password)
  if (problem !== null) throw invalid('OPENCTS_ADMIN_PASSWORD', problem)
  if (!ACCESS_KEY_ID_PATTERN.test(values.accessKey))
    throw invalid('OPENCTS_ADMIN_ACCESS_KEY', 'an access key id is 20 uppercase letters or digits')
  if (!SECRET_KEY_PATTERN.test(values.secretKey))
    throw invalid(
      'OPENCTS_ADMIN_SECRET_KEY',
      'a secret key is 16-128 printable ASCII characters without spaces',
    )
  if ((input.accessKey === undefined) !== (input.secretKey === undefined))
    throw invalid(
      'OPENCTS_ADMIN_ACCESS_KEY',
      'give OPENCTS_ADMIN_ACCESS_KEY and OPENCTS_ADMIN_SECRET_KEY together, or neither',
    )
  return input.projectId === undefined ? values : { ...values, projectId: input.projectId }
}

/** Creates the administrator if no account exists; returns it, or null when identities exist. */
export async function bootstrapAdmin(
  store: IdentityStore,
  admin: IdentityAdmin,
  input: BootstrapInput,
  region: string,
): Promise<AdminCredentials | null> {
  if (!(await store.isEmpty())) return null
  const values = checkBootstrapInput(input, region)
  const account = await admin.createAccount({ name: values.account })
  const project = await admin.createProject({
    account: account.name,
    name: values.project,
    ...(values.projectId === undefined ? {} : { id: values.projectId }),
  })
  const user = await admin.createUser({
    account: account.name,
    name: values.user,
    password: values.password,
  })
  await admin.grant({ account: account.name, user: user.name, policy: ADMIN_POLICY })
  await admin.createAccessKey({
    account: account.name,
    user: user.name,
    accessKeyId: values.accessKey,
    secretKey: values.secretKey,
    description: 'created on first start',
  })
  return {
    account: account.name,
    accountId: account.id,
    projectName: project.name,
    projectId: project.id,
    user: user.name,
    userId: user.id,
    password: values.password,
    accessKey: values.accessKey,
    secretKey: values.secretKey,
    given: (Object.keys(input) as (keyof BootstrapInput)[]).filter((k) => input[k] !== undefined),
  }
}
