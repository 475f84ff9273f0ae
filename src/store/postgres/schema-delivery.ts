/**
 * @module store/postgres/schema-delivery
 * Tables of the delivery port (part of migration 1).
 */
export const DELIVERY_SQL = ''
