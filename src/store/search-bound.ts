/**
 * @module store/search-bound
 * Engine-neutral: the error of a search whose window and exact filters select more traces than
 * its bound (TraceSearch.maxScan); each engine counts them its own way, stopping past the bound.
 */
import { ctsError, type OpenCtsError } from '../errors/index.js'

export function searchTooWide(maxScan: number): OpenCtsError {
  return ctsError(
    'OCTS_ERR_QUERY',
    `Query failed: the search would look at more than ${maxScan} traces (those of the window and the exact filters); narrow from/to or add an exact filter (service_type, user, resource_id, … or field:value terms joined by AND)`,
  )
}
