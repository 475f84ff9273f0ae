/**
 * @module store/postgres/schema-transfer
 * Tables of the transfer port (part of migration 1).
 */
export const TRANSFER_SQL = ''
