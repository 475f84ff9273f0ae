/**
 * The answers of statistics requests over the dashboard's window, reloaded when the window
 * changes: null while loading, or a readable error.
 */
import { useEffect, useState } from 'preact/hooks'
import { messageOf } from '../api'
import type { AppliedQuery } from '../traces/trace-filters'
import { statistics, type StatField, type Statistics } from './statistics'

export interface StatRequest {
  readonly groupBy: readonly StatField[]
  readonly top: number
  readonly distinct?: StatField
  readonly q?: string
}

export function useStatistics(
  query: AppliedQuery,
  requests: readonly StatRequest[],
): { readonly answers: Statistics[] | null; readonly error: string | null } {
  const [answers, setAnswers] = useState<Statistics[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    const abort = new AbortController()
    setAnswers(null)
    setError(null)
    Promise.all(requests.map((r) => statistics(query, r, abort.signal)))
      .then((all) => {
        if (!abort.signal.aborted) setAnswers(all)
      })
      .catch((e: unknown) => {
        if (!abort.signal.aborted) setError(messageOf(e))
      })
    return () => abort.abort()
  }, [query])
  return { answers, error }
}
