/**
 * @module transfer/verify/verify-report
 * What `verifyBucket` answers: one result per digest and per trace file, chain findings, files
 * still pending, and the summary counts. Plain JSON (the CLI prints it as is with `--json`).
 *
 * Invariant: `summary.findings` = invalid digests + invalid files + chain findings, and `ok` is
 * true exactly when it is 0. Notes and pending files are never findings.
 */

export type VerifyStatus = 'valid' | 'INVALID'

export interface DigestResult {
  readonly bucket: string
  readonly key: string
  /** From the document; null when it could not be read. */
  readonly startTime: number | null
  /** From the document, else the time in the key. */
  readonly endTime: number
  readonly status: VerifyStatus
  /** Every reason, joined by `; ` (see findings.ts); absent when valid. */
  readonly reason?: string
  /** Starting digest (no previous digest). */
  readonly starting: boolean
  /** Ending digest (validation was turned off). */
  readonly ending: boolean
  /** Number of files it lists. */
  readonly fileCount: number
}

export interface FileResult {
  readonly bucket: string
  readonly key: string
  /** The digest listing it; null for a file in no digest. */
  readonly digest: string | null
  readonly status: VerifyStatus
  readonly reason?: string
  /** Not a finding: e.g. "encrypted, content not checked". */
  readonly note?: string
}

export type ChainFindingKind = 'gap' | 'tail' | 'none' | 'unreadable' | 'restart' | 'loop'

export interface ChainFinding {
  readonly kind: ChainFindingKind
  readonly message: string
  /** Digests missing, for `gap`, `tail` and `none`. */
  readonly missing?: number
}

/** A file no digest lists yet, and none is due to. */
export interface PendingFile {
  readonly key: string
  readonly time: number
  readonly note: string
}

export interface VerifySummary {
  readonly digests: { readonly valid: number; readonly invalid: number }
  readonly files: {
    readonly valid: number
    readonly invalid: number
    readonly pending: number
    /** Encrypted files whose content (not hash) could not be checked. */
    readonly contentNotChecked: number
  }
  readonly chainFindings: number
  readonly findings: number
  readonly ok: boolean
}

export interface VerifyReport {
  readonly bucket: string
  readonly region: string
  readonly tracker: string
  readonly prefix: string
  /** The file-name segment checked (`region` or `region-project`); null when nothing was found. */
  readonly regionSegment: string | null
  readonly from: number
  readonly to: number
  readonly graceMs: number
  readonly periodSeconds: number
  /** Newest first. */
  readonly digests: readonly DigestResult[]
  readonly files: readonly FileResult[]
  readonly pending: readonly PendingFile[]
  readonly chainFindings: readonly ChainFinding[]
  readonly summary: VerifySummary
}

/** The summary of the results. */
export function summarize(
  digests: readonly DigestResult[],
  files: readonly FileResult[],
  pending: readonly PendingFile[],
  chainFindings: readonly ChainFinding[],
): VerifySummary {
  const invalidDigests = digests.filter((d) => d.status === 'INVALID').length
  const invalidFiles = files.filter((f) => f.status === 'INVALID').length
  const findings = invalidDigests + invalidFiles + chainFindings.length
  return {
    digests: { valid: digests.length - invalidDigests, invalid: invalidDigests },
    files: {
      valid: files.length - invalidFiles,
      invalid: invalidFiles,
      pending: pending.length,
      contentNotChecked: files.filter((f) => f.note !== undefined).length,
    },
    chainFindings: chainFindings.length,
    findings,
    ok: findings === 0,
  }
}
