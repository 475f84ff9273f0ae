/**
 * @module bench/machine-facts
 * What the benchmark ran on: CPU, cores, memory, OS, Node and SQLite versions.
 */
import { createRequire } from 'node:module'
import { availableParallelism, cpus, release, totalmem, type } from 'node:os'
import Database from 'better-sqlite3'

export interface MachineFacts {
  readonly cpu: string
  readonly cores: number
  readonly memoryGiB: number
  readonly os: string
  readonly node: string
  readonly sqlite: string
  readonly betterSqlite3: string
}

export function machineFacts(): MachineFacts {
  const db = new Database(':memory:')
  const sqlite = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v
  db.close()
  const require = createRequire(import.meta.url)
  const { version } = require('better-sqlite3/package.json') as { version: string }
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${type()} ${release()}`,
    node: process.version,
    sqlite,
    betterSqlite3: version,
  }
}
