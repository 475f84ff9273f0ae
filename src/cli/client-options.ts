/**
 * @module cli/client-options
 * Where the client commands (`ingest`, `query`) send requests: `--endpoint` or `OPENCTS_ENDPOINT`
 * (default http://127.0.0.1:8088) and the project, `--project` or `OPENCTS_PROJECT_ID` (required).
 */
import { UsageError } from './cli-errors.js'
import { DEFAULT_ENDPOINT, parseEndpoint } from './http-client.js'

/** parseArgs options shared by the client commands. */
export const CLIENT_FLAGS = {
  project: { type: 'string', short: 'p' },
  endpoint: { type: 'string', short: 'e' },
} as const

export interface ClientOptions {
  readonly endpoint: URL
  readonly projectId: string
}

export function clientOptions(
  flags: { readonly project?: string | undefined; readonly endpoint?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
): ClientOptions {
  const projectId = flags.project ?? (env.OPENCTS_PROJECT_ID || undefined)
  if (projectId === undefined)
    throw new UsageError('the project is required: give --project ID or set OPENCTS_PROJECT_ID')
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(projectId))
    throw new UsageError(
      `the project ID must be 1-64 letters, digits, _ or -, got ${JSON.stringify(projectId)}`,
    )
  const endpoint = parseEndpoint(flags.endpoint ?? (env.OPENCTS_ENDPOINT || DEFAULT_ENDPOINT))
  return { endpoint, projectId }
}
