/**
 * The state of a page that lists resources of the API and changes them: the list (null while
 * loading), a readable error, and `act`, which runs a change, reloads the list and shows the
 * change's error instead of throwing.
 */
import { useEffect, useState } from 'preact/hooks'
import { messageOf } from './api'

export interface ApiList<T> {
  readonly items: T[] | null
  readonly error: string | null
  readonly setError: (error: string | null) => void
  /** Runs `run`, then reloads; resolves false (the error shown) when it failed. */
  readonly act: (run: () => Promise<unknown>) => Promise<boolean>
  /** Reloads the list. */
  readonly refresh: () => Promise<void>
}

export function useApiList<T>(load: () => Promise<T[]>): ApiList<T> {
  const [items, setItems] = useState<T[] | null>(null)
  const [error, setError] = useState<string | null>(null)

  async function refresh(): Promise<void> {
    try {
      setItems(await load())
    } catch (e) {
      setError(messageOf(e))
    }
  }
  useEffect(() => void refresh(), [])

  async function act(run: () => Promise<unknown>): Promise<boolean> {
    setError(null)
    try {
      await run()
      await refresh()
      return true
    } catch (e) {
      setError(messageOf(e))
      return false
    }
  }

  return { items, error, setError, act, refresh }
}
