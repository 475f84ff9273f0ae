/**
 * @module cli/client-options
 * Where and as whom the client commands (`ingest`, `query`) send requests. Each value comes from
 * the first source that gives it:
 * - endpoint: `--endpoint`, `OPENCTS_ENDPOINT`, the profile's `endpoint`, http://127.0.0.1:8088;
 * - project: `--project`, `OPENCTS_PROJECT_ID`, the profile's `project_id` (required, 32 hex);
 * - credential: see client-credentials.ts (flags, environment, credentials-file profile).
 */
import { UsageError } from './cli-errors.js'
import {
  loadProfile,
  resolveCredential,
  type ClientCredential,
  type CredentialFlags,
} from './client-credentials.js'
import {
  akskAuthorizer,
  CtsClient,
  DEFAULT_ENDPOINT,
  parseEndpoint,
  passwordAuthorizer,
  tokenAuthorizer,
  type RequestAuthorizer,
} from './http-client.js'

/** parseArgs options shared by the client commands. There is no `--secret-key`, on purpose. */
export const CLIENT_FLAGS = {
  project: { type: 'string', short: 'p' },
  endpoint: { type: 'string', short: 'e' },
  credentials: { type: 'string' },
  profile: { type: 'string' },
  token: { type: 'string' },
  'access-key': { type: 'string' },
} as const

/** IAM project ids: 32 lowercase hex characters. */
const PROJECT_ID = /^[0-9a-f]{32}$/

export interface ClientOptions {
  readonly endpoint: URL
  readonly projectId: string
  readonly credential: ClientCredential
}

/**
 * Refuses secrets given as flags (`--secret-key`, `--password`) before parsing, without echoing the
 * value: a flag value shows in the process list. Throws UsageError.
 */
export function refuseSecretFlags(args: readonly string[]): void {
  for (const arg of args) {
    if (arg === '--') return
    const flag = /^--(secret-key|password)(?:=|$)/.exec(arg)?.[1]
    if (flag !== undefined)
      throw new UsageError(
        `there is no --${flag} flag (a flag value shows in the process list): set ` +
          `OPENCTS_${flag === 'password' ? 'PASSWORD' : 'SECRET_KEY'} or use --credentials FILE`,
      )
  }
}

/**
 * Resolves endpoint, project and credential. Throws UsageError (missing or malformed value, no
 * credential), SettingError (missing profile) or CliFailure (unreadable credentials file).
 */
export function clientOptions(
  flags: CredentialFlags & {
    readonly project?: string | undefined
    readonly endpoint?: string | undefined
  },
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): ClientOptions {
  const profile = loadProfile(flags, env, cwd)
  const fromProfile = (key: string): string | undefined => profile?.values[key] || undefined
  const projectId =
    flags.project ?? (env.OPENCTS_PROJECT_ID || undefined) ?? fromProfile('project_id')
  if (projectId === undefined)
    throw new UsageError(
      'the project is required: give --project ID, set OPENCTS_PROJECT_ID or put project_id in ' +
        'the credentials profile',
    )
  if (!PROJECT_ID.test(projectId))
    throw new UsageError(
      `the project ID must be 32 lowercase hex characters, got ${JSON.stringify(projectId)}`,
    )
  const endpoint = parseEndpoint(
    flags.endpoint ??
      (env.OPENCTS_ENDPOINT || undefined) ??
      fromProfile('endpoint') ??
      DEFAULT_ENDPOINT,
  )
  return { endpoint, projectId, credential: resolveCredential(flags, env, profile) }
}

/** The authorizer of the resolved credential: every request of the client carries it. */
export function authorizerFor(options: ClientOptions, now: () => number): RequestAuthorizer {
  const { credential } = options
  switch (credential.kind) {
    case 'aksk':
      return akskAuthorizer({ ...credential, projectId: options.projectId, now })
    case 'token':
      return tokenAuthorizer(credential.token, credential.description)
    case 'password':
      return passwordAuthorizer({
        ...credential,
        endpoint: options.endpoint,
        projectId: options.projectId,
      })
  }
}

/** A client of the resolved endpoint, authenticating every request. */
export function clientFor(options: ClientOptions, now: () => number): CtsClient {
  return new CtsClient(options.endpoint, authorizerFor(options, now))
}
