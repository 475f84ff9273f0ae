/**
 * @module store/postgres/search-sql
 * A search (TraceFilter.search) as a SQL condition, its values pushed as parameters. Every leaf is
 * wrapped in COALESCE(…, false) so that no part is ever NULL: a trace without a value in a field
 * matches no term on it and so matches its NOT, as the SQLite engine decides (SQL's three-valued
 * logic would drop it from both). Text is found without case for ASCII letters only (`translate`,
 * not the locale's `lower`), as the other engine and the parser lower it.
 */
import type { SearchField, SearchNode } from '../store.js'
import { EXTRA_COLUMN_SQL } from './schema-traces.js'

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
const LOWER = 'abcdefghijklmnopqrstuvwxyz'

function column(field: SearchField): string {
  return field === 'source_ip' || field === 'code' ? EXTRA_COLUMN_SQL[field] : field
}

/** The condition of `node`; `params` gets its values (numbered after those already in it). */
export function searchSql(node: SearchNode, params: unknown[]): string {
  switch (node.kind) {
    case 'and':
    case 'or':
      return `(${node.nodes.map((n) => searchSql(n, params)).join(` ${node.kind.toUpperCase()} `)})`
    case 'not':
      return `(NOT ${searchSql(node.node, params)})`
    case 'text': {
      const p = `$${params.push(node.value)}`
      const found = ['resource_name', 'resource_id', 'trace_name'].map(
        (c) => `strpos(translate(${c}, '${UPPER}', '${LOWER}'), ${p}) > 0`,
      )
      return `COALESCE(${found.join(' OR ')}, false)`
    }
    case 'match': {
      const p = `$${params.push(node.value)}`
      const c = column(node.field)
      return node.prefix
        ? `COALESCE(starts_with(${c}, ${p}), false)`
        : `COALESCE(${c} = ${p}, false)`
    }
    case 'compare': {
      const p = `$${params.push(node.value)}`
      const c = column(node.field)
      return `COALESCE(CASE WHEN ${c} ~ '^[0-9]{1,9}$' THEN ${c}::integer ${node.op} ${p} END, false)`
    }
  }
}
