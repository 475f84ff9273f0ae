/**
 * @module store/postgres/schema-traces
 * Tables of the traces port (part of migration 1).
 */
export const TRACES_SQL = ''
