/**
 * @module store/postgres/schema-config
 * Tables of the config port (part of migration 1).
 */
export const CONFIG_SQL = ''
