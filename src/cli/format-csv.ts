/**
 * @module cli/format-csv
 * RFC 4180 CSV: CRLF line ends; a field holding a comma, a double quote, CR or LF is enclosed in
 * double quotes with inner quotes doubled. Values are written verbatim (no formula neutralising), so
 * the file is a faithful copy of the audit data.
 */
import { csvLine } from '../model/trace-csv.js'

export { csvField } from '../model/trace-csv.js'

/** A CSV document: the header row, then one row per record, each line ended by CRLF. */
export function formatCsv(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [header, ...rows].map((row) => csvLine(row)).join('')
}
