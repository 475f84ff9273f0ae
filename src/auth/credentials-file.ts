/**
 * @module auth/credentials-file
 * The credentials file shared by the server's first start and the CLI, in the INI style of other
 * cloud CLIs (`~/.aws/credentials`): `[profile]` sections of `key = value` lines, `#` comments.
 *
 * Keys: endpoint, account, project_id, project_name, user, password, access_key, secret_key.
 */

export type CredentialsProfile = Readonly<Record<string, string>>

/** Parses the file text into profiles; throws with the line number on a malformed line. */
export function parseCredentialsFile(text: string): Map<string, CredentialsProfile> {
  const profiles = new Map<string, Record<string, string>>()
  let current: Record<string, string> | undefined
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const section = /^\[\s*([^\]]+?)\s*\]$/.exec(line)
    if (section !== null) {
      const name = section[1] ?? ''
      current = profiles.get(name) ?? {}
      profiles.set(name, current)
      continue
    }
    const eq = line.indexOf('=')
    if (eq <= 0 || current === undefined)
      throw new Error(`line ${i + 1}: expected "[profile]" or "key = value"`)
    current[line.slice(0, eq).trim()] = line.slice(eq + 1).trim()
  }
  return profiles
}

/** Formats one profile (values must not contain line breaks). */
export function formatCredentialsProfile(
  name: string,
  values: Readonly<Record<string, string>>,
  comment: readonly string[] = [],
): string {
  const lines = [...comment.map((c) => `# ${c}`), `[${name}]`]
  for (const [key, value] of Object.entries(values)) {
    if (/[\r\n]/.test(value)) throw new Error(`the value of ${key} contains a line break`)
    lines.push(`${key} = ${value}`)
  }
  return lines.join('\n') + '\n'
}

/** The IAM password sign-in body of `POST /v3/auth/tokens`, scoped to a project by id. */
export function passwordSignInBody(input: {
  readonly account: string
  readonly user: string
  readonly password: string
  readonly projectId: string
}): {
  auth: {
    identity: { methods: string[]; password: { user: Record<string, unknown> } }
    scope: { project: { id: string } }
  }
} {
  return {
    auth: {
      identity: {
        methods: ['password'],
        password: {
          user: { name: input.user, password: input.password, domain: { name: input.account } },
        },
      },
      scope: { project: { id: input.projectId } },
    },
  }
}
