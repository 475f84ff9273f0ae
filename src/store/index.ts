export type * from './store.js'
// The server's lock on its data directory (one server per directory, whatever the store engine).
export { lockDataDir, type DataDirLock } from './sqlite/data-dir-lock.js'
