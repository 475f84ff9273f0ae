/**
 * @module cli/decrypt-file
 * `opencts keys decrypt FILE --out OUT [--keys KEYFILE]`: opens one encrypted trace file (the
 * envelope of transfer/envelope.ts) with the master key version its header names, taken from a key
 * file of `opencts keys export` (offline) or else from the data directory. Writes the file as it
 * would have been stored unencrypted (`.json.gz` or `.json` bytes) to a new OUT (mode 0600, never
 * overwritten: it holds audit data in clear). Exit 1 when the key is unknown or the file does not
 * open (altered, not an envelope).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { OpenCtsError } from '../errors/index.js'
import { randomIds } from '../platform/clock.js'
import {
  openEnvelope,
  readEnvelopeHeader,
  type EnvelopeHeader,
  type MasterKeyVersion,
} from '../transfer/envelope.js'
import { KmsKeys, parseKeyFile } from '../transfer/kms-keys.js'
import { CliFailure } from './cli-errors.js'
import type { CliIo } from './cli-io.js'
import { withDataDir } from './data-dir.js'

export interface DecryptRequest {
  readonly file: string
  readonly out: string
  /** A key file of `opencts keys export`; without it the data directory's keys are used. */
  readonly keys?: string | undefined
  readonly dataDir?: string | undefined
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new CliFailure(`cannot read ${what} ${path}: ${(error as Error).message}`)
  }
}

function fromKeyFile(path: string, header: EnvelopeHeader): MasterKeyVersion {
  const versions = parseKeyFile(read(path, 'the key file').toString('utf8'))
  const found = versions.find((v) => v.kmsId === header.kmsId && v.version === header.keyVersion)
  if (found === undefined)
    throw new CliFailure(
      `${path} has no version ${header.keyVersion} of key ${header.kmsId}, which the file needs`,
    )
  return found
}

export async function decryptFile(request: DecryptRequest, io: CliIo): Promise<void> {
  const sealed = read(request.file, 'the file')
  const header = readEnvelopeHeader(sealed)
  const master =
    request.keys === undefined
      ? await withDataDir(request.dataDir, io.env, ({ store, masterKey }) =>
          new KmsKeys({
            keys: store.keys,
            sealer: masterKey,
            clock: { now: io.now },
            ids: randomIds,
          }).version(header.kmsId, header.keyVersion),
        )
      : fromKeyFile(request.keys, header)
  const plain = openEnvelope(sealed, master)
  try {
    writeFileSync(request.out, plain, { mode: 0o600, flag: 'wx' })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EEXIST')
      throw new CliFailure(`${request.out} exists: it is not overwritten; give another --out`)
    throw new CliFailure(`cannot write ${request.out}: ${(error as Error).message}`)
  }
  io.stdout.write(
    `Decrypted ${request.file} (key ${header.kmsId} version ${header.keyVersion}) to ${request.out}.\n`,
  )
}

/** Decryption failures are command failures (exit 1), never usage errors. */
export function decryptError(error: unknown): unknown {
  return error instanceof OpenCtsError ? new CliFailure(error.message) : error
}
