/**
 * @module store/postgres/schema-identity
 * Tables of the identity port (part of migration 1).
 */
export const IDENTITY_SQL = ''
