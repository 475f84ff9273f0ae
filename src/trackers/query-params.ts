/**
 * @module trackers/query-params
 * Reading query-string parameters as the HTTP layer hands them over (a repeated key arrives as an
 * array). An empty value counts as absent, as in the trace query.
 */
import { reject } from './reject.js'

/** A query string: one value per key, or every value of a repeated key. */
export type QueryParams = Readonly<Record<string, string | readonly string[] | undefined>>

/** The single value of `name`; throws OCTS_ERR_QUERY (CTS.0300) when the key is repeated. */
export function queryParam(query: QueryParams, name: string): string | undefined {
  const value = Object.hasOwn(query, name) ? query[name] : undefined
  if (typeof value === 'string') return value === '' ? undefined : value
  if (value === undefined || value.length === 0) return undefined
  if (value.length > 1)
    return reject('OCTS_ERR_QUERY', `${name} is given ${value.length} times, give it once`)
  return value[0] === '' ? undefined : value[0]
}

/** Every value of `name`, each split at commas, without empty items (`id1,id2&id=id3`). */
export function queryList(query: QueryParams, name: string): string[] {
  const value = Object.hasOwn(query, name) ? query[name] : undefined
  const values = value === undefined ? [] : typeof value === 'string' ? [value] : value
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '')
}
