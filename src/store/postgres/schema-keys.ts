/**
 * @module store/postgres/schema-keys
 * Tables of the keys port (part of migration 1).
 */
export const KEYS_SQL = ''
