/**
 * @module store/sqlite/blocks/migrate-rows
 * The 7 → 8 migration: converts the rows of the `traces` table into blocks (same seqs and leaves),
 * inside the opener's migration transaction. Placeholder until the conversion lands: a data
 * directory holding a `traces` table is refused, unchanged.
 */
import { OpenCtsError } from '../../../errors/index.js'
import type { SqliteDatabase } from '../sqlite-database.js'

export function migrateRowStore(db: SqliteDatabase): void {
  throw new OpenCtsError('OCTS_ERR_WRITE_FAILED', {
    message: `this data directory needs the 7→8 migration (${db.name})`,
  })
}
