/**
 * The console shell: redirects to sign-in without a session, lands on the dashboard after sign-in,
 * shows the navigation and the current page, and signs out (`DELETE /v3/auth/tokens`, then the
 * session is forgotten).
 */
import { useEffect, useState } from 'preact/hooks'
import { AlarmsPage } from './alarms/alarms-page'
import { DashboardPage } from './dashboard/dashboard-page'
import { InsightsPage } from './insights/insights-page'
import { NotificationsPage } from './notifications/notifications-page'
import { ResourceHistoryPage } from './resources/resource-history-page'
import { HOME, navigate, usePage } from './router'
import { clearSession, loadSession, type Session } from './session'
import { SignIn } from './sign-in'
import { TracesPage } from './traces/traces-page'
import { TrackersPage } from './trackers/trackers-page'

export function App() {
  const { page, search } = usePage()
  const [session, setSession] = useState<Session | null>(loadSession())
  const [reason, setReason] = useState<string | null>(null)

  useEffect(() => {
    const current = loadSession()
    if (current === null && page !== 'sign-in') {
      if (session !== null) setReason('Your session ended. Sign in again.')
      setSession(null)
      navigate('sign-in', true)
    } else if (current !== null && page === 'sign-in') navigate(HOME, true)
  }, [page])

  if (session === null || page === 'sign-in')
    return (
      <SignIn
        reason={reason}
        onSignedIn={(s) => {
          setReason(null)
          setSession(s)
          navigate(HOME, true)
        }}
      />
    )

  async function signOut(): Promise<void> {
    const token = session?.token
    if (token !== undefined)
      await fetch('/v3/auth/tokens', {
        method: 'DELETE',
        headers: { 'x-auth-token': token, 'x-subject-token': token },
        credentials: 'omit',
      }).catch(() => undefined)
    clearSession()
    setSession(null)
    navigate('sign-in', true)
  }

  const link = (target: typeof page, label: string) => (
    <a
      href={`/console/${target}`}
      aria-current={page === target ? 'page' : undefined}
      onClick={(e) => {
        e.preventDefault()
        navigate(target)
      }}
    >
      {label}
    </a>
  )

  return (
    <div class="shell">
      <header class="top">
        <span class="brand">OpenCTS</span>
        <nav aria-label="Console">
          {link('dashboard', 'Dashboard')}
          {link('traces', 'Trace list')}
          {link('resources', 'Resource history')}
          {link('trackers', 'Trackers')}
          {link('notifications', 'Key event notifications')}
          {link('alarms', 'Alarms')}
          {link('insights', 'Insights')}
        </nav>
        <span class="who" data-testid="who">
          {session.userName} · {session.projectName}
        </span>
        <button type="button" class="secondary" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <main>
        {page === 'dashboard' ? <DashboardPage /> : null}
        {page === 'traces' ? <TracesPage /> : null}
        {page === 'resources' ? <ResourceHistoryPage search={search} /> : null}
        {page === 'trackers' ? <TrackersPage /> : null}
        {page === 'notifications' ? <NotificationsPage /> : null}
        {page === 'alarms' ? <AlarmsPage /> : null}
        {page === 'insights' ? <InsightsPage /> : null}
      </main>
    </div>
  )
}
