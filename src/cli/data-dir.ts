/**
 * @module cli/data-dir
 * Opening a server's store and master key from a command that works on them directly (`opencts
 * admin`, `opencts keys`): the store of `--store URL` / OPENCTS_STORE (default the data
 * directory's SQLite file `opencts.db`; or the PostgreSQL database the servers share) and the
 * master key file (default in the data directory). Safe while the servers run (SQLite in WAL mode;
 * PostgreSQL transactions). An SQLite store's folder must exist, so a typo does not make an empty
 * one. A missing master key is created only while the store holds nothing sealed with one (no
 * account, no encryption key, no signing key): a new key could not open what the lost one sealed.
 *
 * Failures: SettingError (an invalid `--data-dir` / `--store` / OPENCTS_* setting), CliFailure (no
 * data directory, a missing master key the store needs, an invalid master key file, an unreadable
 * or unreachable store, a store of a newer schema).
 */
import { existsSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { resolveMasterKey, type MasterKey } from '../auth/master-key.js'
import { CONFIG_ENV_NAMES, ConfigError, loadConfig, type OpenCtsConfig } from '../config/config.js'
import { OpenCtsError } from '../errors/index.js'
import type { Store } from '../store/index.js'
import { openStore, parseStoreUrl } from '../store/open-store.js'
import { CliFailure, SettingError } from './cli-errors.js'
import type { CliIo } from './cli-io.js'

/** An open store with its master key. */
export interface DataDir {
  readonly config: OpenCtsConfig
  readonly store: Store
  readonly masterKey: MasterKey
}

/** Where the command works: `--data-dir` and `--store` when given, else OPENCTS_* and defaults. */
export interface DataDirFlags {
  readonly dataDir?: string | undefined
  readonly store?: string | undefined
}

/** The configuration with the flags (when given) over `OPENCTS_*`. Throws SettingError. */
export function dataDirConfig(
  flags: DataDirFlags | string | undefined,
  env: CliIo['env'],
): OpenCtsConfig {
  const { dataDir, store } =
    typeof flags === 'object' ? flags : { dataDir: flags, store: undefined }
  try {
    return loadConfig(env, { dataDir, store })
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    const key = error.message.split(' ')[0] ?? ''
    const from = (CONFIG_ENV_NAMES as Readonly<Record<string, string>>)[key]
    throw new SettingError(
      `invalid setting: ${error.message}${from === undefined ? '' : ` (set by ${key === 'store' ? '--store or ' : ''}${from})`}`,
    )
  }
}

/** Whether the store holds anything sealed with the master key. */
async function holdsSealedData(store: Store): Promise<boolean> {
  if (!(await store.identity.isEmpty())) return true
  if ((await store.keys.listKmsKeys()).length > 0) return true
  return (await store.keys.listSigningKeys()).length > 0
}

function openMasterKey(config: OpenCtsConfig): MasterKey {
  try {
    return resolveMasterKey(config).key
  } catch (error) {
    throw new CliFailure(error instanceof Error ? error.message : String(error))
  }
}

/** Throws CliFailure when the folder of an SQLite store does not exist. */
function requireSqliteFolder(config: OpenCtsConfig): void {
  const location = parseStoreUrl(config.store)
  if (location.engine !== 'sqlite' || location.path === ':memory:') return
  const folder = dirname(location.path)
  if (existsSync(folder) && statSync(folder).isDirectory()) return
  throw new CliFailure(
    folder === config.dataDir
      ? `the data directory ${config.dataDir} does not exist: give the server's with --data-dir ` +
          'DIR or OPENCTS_DATA_DIR (opencts serve creates it on first start; or create it yourself)'
      : `the folder ${folder} of the SQLite store does not exist: check --store or OPENCTS_STORE`,
  )
}

/**
 * Opens the store (and master key) of the flags / OPENCTS_* / defaults, creating or upgrading its
 * schema, runs `run`, and closes the store whatever happens. See the module comment for the rules
 * and failures.
 */
export async function withDataDir<T>(
  flags: DataDirFlags | string | undefined,
  env: CliIo['env'],
  run: (opened: DataDir) => Promise<T>,
): Promise<T> {
  const config = dataDirConfig(flags, env)
  requireSqliteFolder(config)
  let store: Store
  try {
    store = await openStore({ url: config.store, poolSize: 2 })
  } catch (error) {
    throw new CliFailure(error instanceof OpenCtsError ? error.message : String(error))
  }
  try {
    if (
      config.masterKey === '' &&
      !existsSync(config.masterKeyFile) &&
      (await holdsSealedData(store))
    )
      throw new CliFailure(
        `the master key file ${config.masterKeyFile} is missing, but the store holds data sealed ` +
          'with it: restore it (or set OPENCTS_MASTER_KEY_FILE); a new key could not open it',
      )
    return await run({ config, store, masterKey: openMasterKey(config) })
  } finally {
    await store.close()
  }
}
