/**
 * Sign-in with the IAM password method of the token API (`POST /v3/auth/tokens`): account, user,
 * password and project (name, or a 32-hex id). The token comes back in `X-Subject-Token`.
 */
import { useState } from 'preact/hooks'
import { errorOf, messageOf } from './api'
import { saveSession, type Session } from './session'
import { ErrorBanner } from './ui'

interface TokenBody {
  token?: {
    expires_at?: string
    user?: { name?: string; domain?: { id?: string; name?: string } }
    project?: { id?: string; name?: string }
  }
}

export function SignIn(props: { onSignedIn: (session: Session) => void; reason: string | null }) {
  const [account, setAccount] = useState('opencts')
  const [user, setUser] = useState('')
  const [password, setPassword] = useState('')
  const [project, setProject] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  async function submit(event: Event): Promise<void> {
    event.preventDefault()
    setBusy(true)
    setError(null)
    try {
      const projectRef = /^[0-9a-f]{32}$/.test(project) ? { id: project } : { name: project }
      const response = await fetch('/v3/auth/tokens', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        credentials: 'omit',
        body: JSON.stringify({
          auth: {
            identity: {
              methods: ['password'],
              password: { user: { name: user, password, domain: { name: account } } },
            },
            scope: { project: projectRef },
          },
        }),
      })
      if (!response.ok) throw await errorOf(response)
      const token = response.headers.get('x-subject-token')
      const body = (await response.json()) as TokenBody
      if (token === null || body.token?.project?.id === undefined)
        throw new Error('The server answered without a token.')
      const session: Session = {
        token,
        expiresAt: Date.parse(body.token.expires_at ?? '') || Date.now() + 3_600_000,
        projectId: body.token.project.id,
        projectName: body.token.project.name ?? project,
        userName: body.token.user?.name ?? user,
        accountId: body.token.user?.domain?.id ?? '',
        accountName: body.token.user?.domain?.name ?? account,
      }
      saveSession(session)
      setPassword('')
      props.onSignedIn(session)
    } catch (e) {
      setError(e instanceof TypeError ? 'Cannot reach the OpenCTS server.' : messageOf(e))
    } finally {
      setBusy(false)
    }
  }

  return (
    <main class="sign-in">
      <h1>OpenCTS console</h1>
      <form onSubmit={(e) => void submit(e)} aria-label="Sign in">
        {props.reason === null ? null : <p class="notice">{props.reason}</p>}
        <ErrorBanner error={error} />
        <label>
          Account
          <input
            name="account"
            value={account}
            required
            autoComplete="organization"
            onInput={(e) => setAccount(e.currentTarget.value)}
          />
        </label>
        <label>
          User
          <input
            name="user"
            value={user}
            required
            autoComplete="username"
            onInput={(e) => setUser(e.currentTarget.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            value={password}
            required
            autoComplete="current-password"
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <label>
          Project (name or ID)
          <input
            name="project"
            value={project}
            required
            onInput={(e) => setProject(e.currentTarget.value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  )
}
