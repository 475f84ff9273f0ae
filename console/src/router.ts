/**
 * A minimal client router over the History API: console pages are paths under `/console/`
 * (the server answers index.html for them), so the back button and reloads work.
 */
import { useEffect, useState } from 'preact/hooks'

export const BASE = '/console/'
export type Page = 'traces' | 'trackers' | 'notifications' | 'alarms' | 'insights' | 'sign-in'

const PAGES: readonly Page[] = [
  'traces',
  'trackers',
  'notifications',
  'alarms',
  'insights',
  'sign-in',
]

export function currentPage(): Page {
  const rest = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : ''
  const name = rest.split('/')[0] ?? ''
  return (PAGES as readonly string[]).includes(name) ? (name as Page) : 'traces'
}

export function navigate(page: Page, replace = false): void {
  const url = `${BASE}${page}`
  if (replace) history.replaceState(null, '', url)
  else history.pushState(null, '', url)
  dispatchEvent(new Event('opencts:navigate'))
}

export function usePage(): Page {
  const [page, setPage] = useState(currentPage())
  useEffect(() => {
    const update = (): void => setPage(currentPage())
    addEventListener('popstate', update)
    addEventListener('opencts:navigate', update)
    return () => {
      removeEventListener('popstate', update)
      removeEventListener('opencts:navigate', update)
    }
  }, [])
  return page
}
