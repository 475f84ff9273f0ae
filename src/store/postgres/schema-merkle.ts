/**
 * @module store/postgres/schema-merkle
 * Tables of the merkle port (part of migration 1).
 */
export const MERKLE_SQL = ''
