/**
 * A minimal client router over the History API: console pages are paths under `/console/`
 * (the server answers index.html for them), so the back button and reloads work. A page may carry
 * a query string (`/console/resources?resource_id=…`), read with `pageParams()`.
 */
import { useEffect, useState } from 'preact/hooks'

export const BASE = '/console/'
export type Page =
  | 'dashboard'
  | 'traces'
  | 'resources'
  | 'trackers'
  | 'notifications'
  | 'alarms'
  | 'insights'
  | 'sign-in'

const PAGES: readonly Page[] = [
  'dashboard',
  'traces',
  'resources',
  'trackers',
  'notifications',
  'alarms',
  'insights',
  'sign-in',
]

/** The landing page after sign-in and for `/console/`. */
export const HOME: Page = 'dashboard'

export function currentPage(): Page {
  const rest = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : ''
  const name = rest.split('/')[0] ?? ''
  return (PAGES as readonly string[]).includes(name) ? (name as Page) : HOME
}

/** The query parameters of the current page's URL. */
export function pageParams(): URLSearchParams {
  return new URLSearchParams(location.search)
}

/** The path of a page, with its query parameters (empty values left out). */
export function pageHref(page: Page, params: Readonly<Record<string, string>> = {}): string {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) if (value !== '') search.set(key, value)
  const query = search.toString()
  return `${BASE}${page}${query === '' ? '' : `?${query}`}`
}

export function navigate(
  page: Page,
  replace = false,
  params: Readonly<Record<string, string>> = {},
): void {
  const url = pageHref(page, params)
  if (replace) history.replaceState(null, '', url)
  else history.pushState(null, '', url)
  dispatchEvent(new Event('opencts:navigate'))
}

/** The current page and the query string it was opened with (changes re-render). */
export function usePage(): { readonly page: Page; readonly search: string } {
  const read = (): { page: Page; search: string } => ({
    page: currentPage(),
    search: location.search,
  })
  const [state, setState] = useState(read())
  useEffect(() => {
    const update = (): void => setState(read())
    addEventListener('popstate', update)
    addEventListener('opencts:navigate', update)
    return () => {
      removeEventListener('popstate', update)
      removeEventListener('opencts:navigate', update)
    }
  }, [])
  return state
}
