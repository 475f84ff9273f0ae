/**
 * @module store/sqlite/sqlite-trace-store
 * What is left of the row-per-trace store of schema versions 1–7 (replaced by the block store,
 * blocks/block-trace-store): the insert of a `traces` row, for the 7 → 8 migration's tests and the
 * tools that build row-store files.
 */
import type { TraceRecord } from '../../model/index.js'
import { traceColumns } from '../trace-columns.js'

/** The row parameters of the insert statement: the indexed columns, then the document. */
export function traceRow(t: TraceRecord, doc: string = JSON.stringify(t)): unknown[] {
  return [...traceColumns(t), doc]
}

export const INSERT_TRACE_SQL = `INSERT OR IGNORE INTO traces (trace_id, project_id, time, category, tracker_name,
  service_type, resource_type, resource_id, resource_name, trace_name, trace_rating, user_name, access_key_id,
  enterprise_project_id, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
