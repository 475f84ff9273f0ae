/**
 * @module test/helpers/digest-fixture
 * Writes what a tracker with validation on leaves in a bucket, as the transfer writer does
 * (layout.ts keys, integrity/digest.ts documents and signatures, envelope.ts encryption): N periods
 * of trace files and a signed digest chain, the first digest a starting digest. Also re-signs
 * digests, for tamper tests. Deterministic apart from RSA key generation and envelope IVs.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { gunzipSync, gzipSync } from 'node:zlib'
import {
  DIGEST_VERSION,
  HASH_ALGORITHM,
  SIGNATURE_ALGORITHM,
  digestJson,
  digestSigningString,
  parseDigest,
  publicKeyFingerprint,
  sha256Hex,
  signDigest,
  type DigestDocument,
} from '../../src/integrity/digest.js'
import { sealEnvelope, type MasterKeyVersion } from '../../src/transfer/envelope.js'
import { digestFileKey, formatKeyTime, traceFileKey } from '../../src/transfer/layout.js'
import type { ObjectSink } from '../../src/transfer/object-sink.js'
import type { DigestKeyView } from '../../src/transfer/signing-keys.js'

export interface TestSigningKey {
  readonly privateKey: KeyObject
  readonly fingerprint: string
  /** As `GET /v3/{project_id}/digest-keys` publishes it. */
  readonly view: DigestKeyView
}

/** A fresh RSA-2048 signing key valid over [validFrom, validTo). */
export function makeSigningKey(validFrom = 0, validTo: number | null = null): TestSigningKey {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const fingerprint = publicKeyFingerprint(publicKey)
  return {
    privateKey,
    fingerprint,
    view: {
      fingerprint,
      algorithm: SIGNATURE_ALGORITHM,
      public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      valid_from: validFrom,
      valid_to: validTo,
    },
  }
}

export interface FixtureDigest {
  readonly key: string
  readonly start: number
  readonly end: number
  readonly doc: DigestDocument
  readonly body: Buffer
  readonly signature: string
}

export interface FixtureFile {
  readonly key: string
  readonly time: number
  readonly body: Buffer
  /** Key of the digest listing it. */
  readonly digest: string
}

export interface Fixture {
  /** Oldest first. */
  readonly digests: readonly FixtureDigest[]
  /** Oldest first. */
  readonly files: readonly FixtureFile[]
}

export interface FixtureOptions {
  readonly sink: ObjectSink
  readonly bucket: string
  readonly region: string
  readonly projectId: string
  readonly key: TestSigningKey
  /** Start of the starting digest (any time); ends follow on the period's multiples. */
  readonly start: number
  readonly periods: number
  /** Default 'system'. */
  readonly tracker?: string
  /** Default ''. */
  readonly prefix?: string
  /** Default the region (the default project). */
  readonly regionSegment?: string
  /** Default 3600. */
  readonly periodSeconds?: number
  /** Trace files per period; default 2. */
  readonly filesPerPeriod?: number
  /** Default 'gzip'. */
  readonly compress?: 'gzip' | 'json'
  /** Service folder; default 'IMS', null for none. */
  readonly service?: string | null
  /** Encrypt trace files under this master key version. */
  readonly encryptWith?: MasterKeyVersion
  /** Write the last digest as an ending digest (validation turned off) ending at this time. */
  readonly endingAt?: number
  /** Continue this chain (the new first digest links to it) instead of starting one. */
  readonly after?: FixtureDigest
}

let uniqueCounter = 0

/** The bytes of a trace file holding `count` small traces delivered at `time`. */
export function traceFileBytes(time: number, count: number, compress: 'gzip' | 'json'): Buffer {
  const traces = Array.from({ length: count }, (_, i) => ({
    trace_id: `t-${time}-${i}`,
    trace_name: 'createImage',
    service_type: 'IMS',
    time: time - 1000 * (i + 1),
    code: 201,
  }))
  const json = Buffer.from(JSON.stringify(traces), 'utf8')
  return compress === 'gzip' ? gzipSync(json) : json
}

/** The stored bytes and signature of a digest document. */
export function signDigestDocument(
  doc: DigestDocument,
  privateKey: KeyObject,
): { body: Buffer; signature: string } {
  const body = gzipSync(Buffer.from(digestJson(doc), 'utf8'))
  return { body, signature: signDigest(privateKey, digestSigningString(doc, sha256Hex(body))) }
}

/** Stores a digest as the writer does: gzip body plus `signature` metadata. */
export async function putDigest(
  sink: ObjectSink,
  bucket: string,
  key: string,
  body: Buffer,
  signature: string,
): Promise<void> {
  await sink.put(bucket, key, body, { signature, 'signature-algorithm': SIGNATURE_ALGORITHM })
}

/**
 * Rewrites the digest at `key` signed by `signer`; its document names `fingerprint` (default the
 * signer's). Returns the new signature.
 */
export async function resignDigest(
  sink: ObjectSink,
  bucket: string,
  key: string,
  signer: TestSigningKey,
  fingerprint: string = signer.fingerprint,
): Promise<string> {
  const object = await sink.get(bucket, key)
  if (object === undefined) throw new Error(`no digest at ${key}`)
  const doc = parseDigest(gunzipSync(object.body).toString('utf8'))
  const { body, signature } = signDigestDocument(
    { ...doc, digest_public_key_fingerprint: fingerprint },
    signer.privateKey,
  )
  await putDigest(sink, bucket, key, body, signature)
  return signature
}

/** Writes the trace files and the digest chain (see the module comment). */
export async function writeFixture(options: FixtureOptions): Promise<Fixture> {
  const { sink, bucket, region, key: signer } = options
  const tracker = options.tracker ?? 'system'
  const prefix = options.prefix ?? ''
  const segment = options.regionSegment ?? region
  const periodMs = (options.periodSeconds ?? 3600) * 1000
  const compress = options.compress ?? 'gzip'
  const perPeriod = options.filesPerPeriod ?? 2
  if (!(await sink.bucketExists(bucket))) await sink.createBucket(bucket)
  const digests: FixtureDigest[] = []
  const files: FixtureFile[] = []
  let previous = options.after
  let start = options.after?.end ?? Math.floor(options.start / 1000) * 1000
  for (let i = 0; i < options.periods; i++) {
    const last = i === options.periods - 1
    const end =
      last && options.endingAt !== undefined
        ? options.endingAt
        : (Math.floor(start / periodMs) + 1) * periodMs
    const key = digestFileKey({ region, regionSegment: segment, tracker, prefix, time: end })
    const periodFiles: FixtureFile[] = []
    for (let f = 1; f <= perPeriod; f++) {
      const time = start + Math.floor(((end - start) * f) / (perPeriod + 1) / 1000) * 1000
      const plain = traceFileBytes(time, f, compress)
      const body =
        options.encryptWith === undefined ? plain : sealEnvelope(plain, options.encryptWith)
      const unique = (++uniqueCounter).toString(16).padStart(16, '0')
      const fileKey = traceFileKey({
        region,
        regionSegment: segment,
        tracker,
        service: options.service === undefined ? 'IMS' : options.service,
        prefix,
        time,
        unique,
        compress,
      })
      await sink.put(bucket, fileKey, body)
      periodFiles.push({ key: fileKey, time, body, digest: key })
    }
    const doc: DigestDocument = {
      digest_version: DIGEST_VERSION,
      project_id: options.projectId,
      digest_start_time: formatKeyTime(start),
      digest_end_time: formatKeyTime(end),
      digest_period_seconds: periodMs / 1000,
      digest_bucket: bucket,
      digest_object: key,
      digest_signature_algorithm: SIGNATURE_ALGORITHM,
      digest_public_key_fingerprint: signer.fingerprint,
      digest_end: last && options.endingAt !== undefined,
      previous_digest_bucket: previous === undefined ? '' : bucket,
      previous_digest_object: previous?.key ?? '',
      previous_digest_hash_value: previous === undefined ? '' : sha256Hex(previous.body),
      previous_digest_hash_algorithm: HASH_ALGORITHM,
      previous_digest_signature: previous?.signature ?? '',
      previous_digest_end: previous?.doc.digest_end ?? false,
      log_files: periodFiles.map((file, f) => ({
        bucket,
        object: file.key,
        log_hash_value: sha256Hex(file.body),
        log_hash_algorithm: HASH_ALGORITHM,
        trace_count: f + 1,
        oldest_trace_time: file.time - 1000 * (f + 1),
        newest_trace_time: file.time - 1000,
      })),
    }
    const { body, signature } = signDigestDocument(doc, signer.privateKey)
    await putDigest(sink, bucket, key, body, signature)
    const digest: FixtureDigest = { key, start, end, doc, body, signature }
    digests.push(digest)
    files.push(...periodFiles)
    previous = digest
    start = end
  }
  return { digests, files }
}
