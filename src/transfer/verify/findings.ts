/**
 * @module transfer/verify/findings
 * Every reason `opencts verify` gives, in one place (docs/verify.md lists them in the same order).
 * A reason is a short English phrase that starts with a fixed text, so scripts can match on the
 * start and people can read the rest. Times are `YYYY-MM-DDTHH-mm-ssZ`, as in object keys.
 */
import { formatKeyTime } from '../layout.js'

/** 16 hex characters of a hash: enough to tell two values apart in a message. */
const short = (hex: string): string => (hex.length > 16 ? `${hex.slice(0, 16)}…` : hex)

/** Reasons of a trace file or a digest. */
export const REASON = {
  /** A digest lists the file, but no object has its key (nor its bytes elsewhere). */
  notFound: 'not found',
  /** A digest lists the file at one key; the same bytes are at `key`. */
  movedTo: (key: string) => `moved to ${key}`,
  hashMismatch: (got: string, want: string) =>
    `hash value doesn't match (got ${short(got)}, want ${short(want)})`,
  extraData: (bytes: number) => `extra data after the gzip stream (${bytes} bytes)`,
  invalidFormat: (detail: string) => `invalid format: ${detail}`,
  decryptFailed: (detail: string) => `decryption failed: ${detail}`,
  /** A file in the folder, delivered in a period some digest covers, that no digest lists. */
  notInAnyDigest: 'not in any digest',
  /** As above, in the period of a digest that is missing. */
  notInAnyDigestMissing: 'not in any digest (its digest is missing)',
  /** Delivered after the newest digest's end, longer ago than a period and the grace. */
  notInAnyDigestOverdue: 'not in any digest (its digest is overdue)',

  signatureNotInMetadata: 'signature not found in object metadata',
  signatureFailed: 'signature verification failed',
  badPublicKey: (fingerprint: string) =>
    `public key for fingerprint ${fingerprint} is not a PEM SubjectPublicKeyInfo`,
  signatureAlgorithm: (algorithm: string) =>
    `unsupported signature algorithm ${JSON.stringify(algorithm)}, want "SHA256withRSA"`,
  metadataSignatureDiffers: (successor: string) =>
    `signature in object metadata differs from previous_digest_signature of ${successor}`,
  movedFrom: (bucket: string, key: string) => `moved from its original location ${bucket}/${key}`,
  chainHashMismatch: (successor: string, got: string, want: string) =>
    `hash value doesn't match previous_digest_hash_value of ${successor} (got ${short(got)}, want ${short(want)})`,
  endNotSuccessorStart: (end: number, successor: string, start: number) =>
    `ends at ${formatKeyTime(end)}, but its successor ${successor} starts at ${formatKeyTime(start)}`,
  endingFlagDiffers: (successor: string) =>
    `digest_end differs from previous_digest_end of ${successor}`,
  offSchedule: (end: number, periodSeconds: number) =>
    `ends at ${formatKeyTime(end)}, not a multiple of its ${periodSeconds}-second period`,
  projectDiffers: (got: string, want: string) => `project_id is ${got}, want ${want}`,
  notInChain: 'not part of the chain (no newer digest links to it)',
} as const

/** Texts of chain findings (`ChainFinding.message`). */
export const CHAIN = {
  gap: (count: number, older: string, newer: string) =>
    `${count} digest${count === 1 ? '' : 's'} missing between ${older} and ${newer}`,
  gapBefore: (count: number, newer: string, previous: string) =>
    `${count} digest${count === 1 ? '' : 's'} missing before ${newer} (its previous digest ${previous} is not found)`,
  tail: (count: number, newest: string) =>
    `${count} digest${count === 1 ? '' : 's'} missing after ${newest}`,
  none: (from: number, to: number, count: number) =>
    `no digest found between ${formatKeyTime(from)} and ${formatKeyTime(to)} (${count} expected)`,
  unreadable: (key: string) => `chain broken at ${key}: the digest cannot be read`,
  restart: (starting: string, older: string) =>
    `chain restarted at ${starting} although ${older} is not an ending digest`,
  loop: (key: string) => `chain loops back to ${key}`,
} as const

/** Notes: facts worth telling that are not findings. */
export const NOTE = {
  encrypted: 'encrypted, content not checked',
  noKey: (kmsId: string, version: number) =>
    `encrypted with key ${kmsId} version ${version}, not in the key file: content not checked`,
  pending: 'pending: delivered after the newest digest',
  afterEnding: 'delivered after the ending digest (validation off): not covered',
} as const
