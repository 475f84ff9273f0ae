/**
 * @module transfer/verify/digest-check
 * Checks one digest object on its own and against the newer digest that links to it (its
 * "voucher"): format (one gzip member, nothing appended, a version-1 document), location, project,
 * schedule, the chain link (hash, end time, ending flag) and the SHA256withRSA signature.
 *
 * Which signature is checked: the newer digest's `previous_digest_signature` when there is one
 * (it is covered by the newer digest's own signature), else the object's `signature` metadata —
 * the only place the newest digest's signature lives. When both exist and differ, that is a
 * finding too. The key is the one `selectVerificationKey` picks for the digest's fingerprint and
 * end time.
 */
import { createPublicKey, type KeyObject } from 'node:crypto'
import {
  SIGNATURE_ALGORITHM,
  digestSigningString,
  isStartingDigest,
  parseDigest,
  sha256Hex,
  verifyDigestSignature,
  type DigestDocument,
} from '../../integrity/digest.js'
import { parseKeyTime } from '../layout.js'
import type { StoredObject } from '../object-sink.js'
import { selectVerificationKey, type DigestKeyView } from '../signing-keys.js'
import { REASON } from './findings.js'
import { readGzipMember } from './gzip-member.js'
import type { DigestResult } from './verify-report.js'

/** What the newer digest says of this one. */
export interface Voucher {
  /** Key of the newer digest. */
  readonly successor: string
  readonly successorStart: number
  readonly hash: string
  readonly signature: string
  readonly ending: boolean
}

export interface DigestCheckContext {
  readonly bucket: string
  readonly publicKeys: readonly DigestKeyView[]
  readonly projectId: string | undefined
  /** Parsed public keys by fingerprint (filled as keys are used). */
  readonly keyObjects: Map<string, KeyObject>
}

/** A checked digest; `doc`, `start` and `end` are set when the document could be read. */
export interface CheckedDigest {
  readonly result: DigestResult
  readonly doc?: DigestDocument
  readonly start?: number
  readonly end?: number
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function signatureProblems(
  doc: DigestDocument,
  end: number,
  object: StoredObject,
  hash: string,
  voucher: Voucher | undefined,
  context: DigestCheckContext,
): string[] {
  const problems: string[] = []
  const fromMetadata = object.metadata.signature
  const algorithm = object.metadata['signature-algorithm']
  if (voucher !== undefined && fromMetadata !== undefined && fromMetadata !== voucher.signature)
    problems.push(REASON.metadataSignatureDiffers(voucher.successor))
  const signature = voucher?.signature ?? fromMetadata
  if (signature === undefined) return [...problems, REASON.signatureNotInMetadata]
  for (const alg of [doc.digest_signature_algorithm, algorithm ?? SIGNATURE_ALGORITHM])
    if (alg !== SIGNATURE_ALGORITHM) return [...problems, REASON.signatureAlgorithm(alg)]
  const view = selectVerificationKey(context.publicKeys, doc.digest_public_key_fingerprint, end)
  if ('problem' in view) return [...problems, view.problem]
  let key = context.keyObjects.get(view.fingerprint)
  if (key === undefined) {
    try {
      key = createPublicKey(view.public_key)
    } catch {
      return [...problems, REASON.badPublicKey(view.fingerprint)]
    }
    context.keyObjects.set(view.fingerprint, key)
  }
  if (!verifyDigestSignature(key, digestSigningString(doc, hash), signature))
    problems.push(REASON.signatureFailed)
  return problems
}

function result(
  key: string,
  context: DigestCheckContext,
  endTime: number,
  reasons: readonly string[],
  doc?: DigestDocument,
  startTime?: number,
): DigestResult {
  return {
    bucket: context.bucket,
    key,
    startTime: startTime ?? null,
    endTime,
    status: reasons.length === 0 ? 'valid' : 'INVALID',
    ...(reasons.length === 0 ? {} : { reason: reasons.join('; ') }),
    starting: doc === undefined ? false : isStartingDigest(doc),
    ending: doc?.digest_end ?? false,
    fileCount: doc?.log_files.length ?? 0,
  }
}

/**
 * Checks the digest `object` stored at `key` (whose name says it ends at `keyTime`). Never throws
 * for bad content: every problem is a reason of the result.
 */
export function checkDigest(
  key: string,
  keyTime: number,
  object: StoredObject,
  voucher: Voucher | undefined,
  context: DigestCheckContext,
): CheckedDigest {
  const reasons: string[] = []
  const hash = sha256Hex(object.body)
  const linkBroken =
    voucher !== undefined && hash !== voucher.hash
      ? REASON.chainHashMismatch(voucher.successor, hash, voucher.hash)
      : undefined
  const member = readGzipMember(object.body)
  if (!member.ok) {
    reasons.push(REASON.invalidFormat(member.problem))
    if (linkBroken !== undefined) reasons.push(linkBroken)
    return { result: result(key, context, keyTime, reasons) }
  }
  if (member.extraBytes > 0) reasons.push(REASON.extraData(member.extraBytes))
  else if (linkBroken !== undefined) reasons.push(linkBroken)
  let doc: DigestDocument
  try {
    doc = parseDigest(member.content.toString('utf8'))
  } catch (error) {
    reasons.push(REASON.invalidFormat(message(error)))
    return { result: result(key, context, keyTime, reasons) }
  }
  const start = parseKeyTime(doc.digest_start_time)
  const end = parseKeyTime(doc.digest_end_time)
  if (start === undefined || end === undefined || start >= end) {
    reasons.push(REASON.invalidFormat('digest_start_time and digest_end_time are not a period'))
    return { result: result(key, context, keyTime, reasons) }
  }
  if (doc.digest_bucket !== context.bucket || doc.digest_object !== key)
    reasons.push(REASON.movedFrom(doc.digest_bucket, doc.digest_object))
  if (context.projectId !== undefined && doc.project_id !== context.projectId)
    reasons.push(REASON.projectDiffers(doc.project_id, context.projectId))
  if (!doc.digest_end && end % (doc.digest_period_seconds * 1000) !== 0)
    reasons.push(REASON.offSchedule(end, doc.digest_period_seconds))
  if (voucher !== undefined && end !== voucher.successorStart)
    reasons.push(REASON.endNotSuccessorStart(end, voucher.successor, voucher.successorStart))
  if (voucher !== undefined && doc.digest_end !== voucher.ending)
    reasons.push(REASON.endingFlagDiffers(voucher.successor))
  reasons.push(...signatureProblems(doc, end, object, hash, voucher, context))
  return { result: result(key, context, end, reasons, doc, start), doc, start, end }
}
