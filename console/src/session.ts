/**
 * The signed-in session: the token (from `X-Subject-Token`) and who it is for. Kept in
 * sessionStorage only — never in a URL, a cookie or localStorage — so it is sent only as the
 * `X-Auth-Token` header by the console's own code, ends with the tab, and is dropped on expiry.
 */
export interface Session {
  readonly token: string
  readonly expiresAt: number
  readonly projectId: string
  readonly projectName: string
  readonly userName: string
  readonly accountId: string
  readonly accountName: string
}

const KEY = 'opencts.session'

export function loadSession(): Session | null {
  try {
    const text = sessionStorage.getItem(KEY)
    if (text === null) return null
    const session = JSON.parse(text) as Session
    if (typeof session.token !== 'string' || !(session.expiresAt > Date.now())) {
      sessionStorage.removeItem(KEY)
      return null
    }
    return session
  } catch {
    return null
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(session))
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY)
}
