/**
 * @module store/postgres/schema
 * Migration 1: the tables of every port (one file each). `project_id` is in every primary and unique
 * key of project data, so that the schema can be distributed by project later (docs/postgres.md).
 */
import { CONFIG_SQL } from './schema-config.js'
import { DELIVERY_SQL } from './schema-delivery.js'
import { IDENTITY_SQL } from './schema-identity.js'
import { KEYS_SQL } from './schema-keys.js'
import { MERKLE_SQL } from './schema-merkle.js'
import { TRACES_SQL } from './schema-traces.js'
import { TRANSFER_SQL } from './schema-transfer.js'

export const SCHEMA_1 = [
  TRACES_SQL,
  MERKLE_SQL,
  CONFIG_SQL,
  IDENTITY_SQL,
  KEYS_SQL,
  TRANSFER_SQL,
  DELIVERY_SQL,
].join('\n')
