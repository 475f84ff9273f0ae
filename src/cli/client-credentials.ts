/**
 * @module cli/client-credentials
 * The credential of the client commands (`ingest`, `query`) and the credentials-file profile they
 * read. The credential comes whole from the highest source that names one: flags (`--access-key`,
 * `--token`), then environment (`OPENCTS_ACCESS_KEY`, `OPENCTS_TOKEN`, `OPENCTS_USER` /
 * `OPENCTS_PASSWORD`), then the profile; within one source an access key (AK/SK) wins over a token,
 * a token over a password. Secrets are looked up by the same order: `OPENCTS_SECRET_KEY` /
 * `OPENCTS_PASSWORD`, else the profile's value when the profile names the same key or user.
 *
 * The credentials file is `--credentials FILE`, else `OPENCTS_CREDENTIALS_FILE`, else the first
 * that exists of `$HOME/.opencts/credentials` and `./.opencts/credentials` (where `opencts serve`
 * writes the administrator's with the default data directory). The profile is `--profile`, else
 * `OPENCTS_PROFILE`, else `default`.
 *
 * No message made here holds a secret: a credential is described by its kind and its source.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseCredentialsFile, type CredentialsProfile } from '../auth/credentials-file.js'
import { CliFailure, SettingError, UsageError } from './cli-errors.js'

type Env = Readonly<Record<string, string | undefined>>

export const DEFAULT_PROFILE = 'default'

/** Flags of the client commands that choose the credential. */
export interface CredentialFlags {
  readonly credentials?: string | undefined
  readonly profile?: string | undefined
  readonly token?: string | undefined
  readonly 'access-key'?: string | undefined
}

/** How requests are authenticated; `description` names the credential and its source, no secret. */
export type ClientCredential =
  | {
      readonly kind: 'aksk'
      readonly accessKeyId: string
      readonly secretKey: string
      readonly description: string
    }
  | { readonly kind: 'token'; readonly token: string; readonly description: string }
  | {
      readonly kind: 'password'
      readonly account: string
      readonly user: string
      readonly password: string
      readonly description: string
    }

/** A profile read from a credentials file. */
export interface LoadedProfile {
  readonly path: string
  readonly name: string
  readonly values: CredentialsProfile
}

/** The credentials file to read: given (by flag or environment) or found; undefined when none. */
export function findCredentialsFile(
  flag: string | undefined,
  env: Env,
  cwd: string,
): { readonly path: string; readonly given: boolean } | undefined {
  const given = flag ?? (env.OPENCTS_CREDENTIALS_FILE || undefined)
  if (given !== undefined) return { path: resolve(cwd, given), given: true }
  const candidates = [
    ...(env.HOME ? [join(env.HOME, '.opencts', 'credentials')] : []),
    join(cwd, '.opencts', 'credentials'),
  ]
  const found = candidates.find((path) => existsSync(path))
  return found === undefined ? undefined : { path: found, given: false }
}

/**
 * Reads the profile to use. Throws CliFailure when the file cannot be read or parsed, SettingError
 * when a profile named by flag or environment (or any profile of a given file) is missing. A found
 * file without the `default` profile is ignored.
 */
export function loadProfile(
  flags: CredentialFlags,
  env: Env,
  cwd: string,
): LoadedProfile | undefined {
  const file = findCredentialsFile(flags.credentials, env, cwd)
  const named = flags.profile ?? (env.OPENCTS_PROFILE || undefined)
  if (file === undefined) {
    if (named !== undefined)
      throw new SettingError(
        `profile ${JSON.stringify(named)} given, but no credentials file: give --credentials FILE`,
      )
    return undefined
  }
  let profiles: Map<string, CredentialsProfile>
  try {
    profiles = parseCredentialsFile(readFileSync(file.path, 'utf8'))
  } catch (error) {
    const code = (error as { code?: unknown }).code
    const reason = typeof code === 'string' ? code : (error as Error).message
    throw new CliFailure(`cannot read the credentials file ${file.path}: ${reason}`)
  }
  const name = named ?? DEFAULT_PROFILE
  const values = profiles.get(name)
  if (values === undefined) {
    if (named === undefined && !file.given) return undefined
    const names = [...profiles.keys()].map((n) => JSON.stringify(n)).join(', ')
    throw new SettingError(
      `no profile ${JSON.stringify(name)} in ${file.path} ` +
        `(it has ${names === '' ? 'none' : names})`,
    )
  }
  return { path: file.path, name, values }
}

/** `profile "default" of /path/credentials` */
export function describeProfile(profile: LoadedProfile): string {
  return `profile ${JSON.stringify(profile.name)} of ${profile.path}`
}

/** The usage message when no source gives a credential. */
export function noCredentialsMessage(profile: LoadedProfile | undefined): string {
  const looked =
    profile === undefined
      ? 'no credentials file found at ~/.opencts/credentials or ./.opencts/credentials'
      : `${describeProfile(profile)} holds no access_key, password or user`
  return [
    `no credentials (${looked}). Either:`,
    '  - give --credentials FILE: the server writes its administrator\'s to "credentials" in its',
    '    data directory (.opencts/credentials by default) on its first start;',
    '  - ask an administrator for a file made by "opencts admin credentials";',
    '  - or set OPENCTS_ACCESS_KEY and OPENCTS_SECRET_KEY, or OPENCTS_TOKEN, or OPENCTS_ACCOUNT,',
    '    OPENCTS_USER and OPENCTS_PASSWORD.',
  ].join('\n')
}

/** Access key ids as the signer takes them (printable, no space, comma, semicolon or equals). */
function checkAccessKey(accessKeyId: string, from: string): string {
  if (!/^[\x21-\x7e]{1,128}$/.test(accessKeyId) || /[,;=]/.test(accessKeyId))
    throw new UsageError(
      `the access key id of ${from} is malformed: ${JSON.stringify(accessKeyId)}`,
    )
  return accessKeyId
}

/** Tokens go into a header: printable ASCII only. The token itself is never echoed. */
function checkToken(token: string, from: string): string {
  if (!/^[\x21-\x7e]{1,8192}$/.test(token))
    throw new UsageError(`the token of ${from} is empty or holds spaces or control characters`)
  return token
}

function accessKeyCredential(
  accessKeyId: string,
  from: string,
  env: Env,
  profile: LoadedProfile | undefined,
): ClientCredential {
  checkAccessKey(accessKeyId, from)
  const fromEnv = env.OPENCTS_SECRET_KEY || undefined
  const fromProfile =
    profile?.values.access_key === accessKeyId ? profile.values.secret_key || undefined : undefined
  const secretKey = fromEnv ?? fromProfile
  if (secretKey === undefined)
    throw new UsageError(
      `no secret key for access key ${accessKeyId} (${from}): set OPENCTS_SECRET_KEY or put ` +
        'access_key and secret_key in the credentials file (there is no --secret-key flag: a ' +
        'flag value shows in the process list)',
    )
  const secretFrom =
    fromEnv !== undefined || profile === undefined ? 'OPENCTS_SECRET_KEY' : describeProfile(profile)
  return {
    kind: 'aksk',
    accessKeyId,
    secretKey,
    description: `access key ${accessKeyId} from ${from}, secret key from ${secretFrom}`,
  }
}

function passwordCredential(
  env: Env,
  profile: LoadedProfile | undefined,
  from: string,
): ClientCredential {
  const values = profile?.values ?? {}
  const account = env.OPENCTS_ACCOUNT || values.account || undefined
  const user = env.OPENCTS_USER || values.user || undefined
  const sameUser = values.account === account && values.user === user
  const password = env.OPENCTS_PASSWORD || (sameUser ? values.password || undefined : undefined)
  const missing = [
    ...(account === undefined ? ['OPENCTS_ACCOUNT (the account name)'] : []),
    ...(user === undefined ? ['OPENCTS_USER'] : []),
    ...(password === undefined ? ['OPENCTS_PASSWORD'] : []),
  ]
  if (account === undefined || user === undefined || password === undefined)
    throw new UsageError(`signing in with a password (${from}) also needs ${missing.join(', ')}`)
  return {
    kind: 'password',
    account,
    user,
    password,
    description: `user ${user} of account ${account} from ${from}`,
  }
}

/**
 * The credential to use, by the precedence in the module comment. Throws UsageError when no source
 * gives one (with how to get one), or when the chosen one is incomplete or malformed.
 */
export function resolveCredential(
  flags: CredentialFlags,
  env: Env,
  profile: LoadedProfile | undefined,
): ClientCredential {
  const flagKey = flags['access-key']
  if (flagKey !== undefined && flags.token !== undefined)
    throw new UsageError('give --access-key or --token, not both')
  if (flagKey !== undefined) return accessKeyCredential(flagKey, '--access-key', env, profile)
  if (flags.token !== undefined)
    return { kind: 'token', token: checkToken(flags.token, '--token'), description: '--token' }

  const envKey = env.OPENCTS_ACCESS_KEY || undefined
  if (envKey !== undefined) return accessKeyCredential(envKey, 'OPENCTS_ACCESS_KEY', env, profile)
  const envToken = env.OPENCTS_TOKEN || undefined
  if (envToken !== undefined)
    return {
      kind: 'token',
      token: checkToken(envToken, 'OPENCTS_TOKEN'),
      description: 'OPENCTS_TOKEN',
    }
  if (env.OPENCTS_USER || env.OPENCTS_PASSWORD) {
    const names = ['OPENCTS_ACCOUNT', 'OPENCTS_USER', 'OPENCTS_PASSWORD'].filter((n) => env[n])
    return passwordCredential(env, profile, names.join(', '))
  }

  if (profile !== undefined) {
    const from = describeProfile(profile)
    const profileKey = profile.values.access_key || undefined
    if (profileKey !== undefined) return accessKeyCredential(profileKey, from, env, profile)
    if (profile.values.password || profile.values.user)
      return passwordCredential(env, profile, from)
  }
  if (env.OPENCTS_SECRET_KEY)
    throw new UsageError(
      'OPENCTS_SECRET_KEY is set but no access key: set OPENCTS_ACCESS_KEY or give --access-key',
    )
  throw new UsageError(noCredentialsMessage(profile))
}
