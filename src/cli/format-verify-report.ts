/**
 * @module cli/format-verify-report
 * The human output of `opencts verify`: one line per digest (newest first), each followed by the
 * files it lists; then files in no digest, chain findings and pending files; then a summary.
 * Lines start with a fixed word (`digest`, `file`, `chain`, `pending`) and say `valid` or
 * `INVALID: reason`, so `grep INVALID` lists every finding.
 */
import type { FileResult, VerifyReport } from '../transfer/verify/verify-report.js'

function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z')
}

function verdict(item: { status: string; reason?: string; note?: string }): string {
  if (item.status === 'INVALID') return `INVALID: ${item.reason ?? ''}`
  return item.note === undefined ? 'valid' : `valid (${item.note})`
}

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`

/** The report as text lines, newline-terminated. */
export function formatVerifyReport(report: VerifyReport, where: string): string {
  const lines = [
    `Verifying ${where}, bucket ${report.bucket}, region ${report.region}, tracker ${report.tracker}` +
      `${report.prefix === '' ? '' : `, prefix ${report.prefix}`}, ${isoTime(report.from)} to ${isoTime(report.to)}`,
  ]
  const byDigest = new Map<string, FileResult[]>()
  for (const file of report.files) {
    const group = file.digest ?? ''
    byDigest.set(group, [...(byDigest.get(group) ?? []), file])
  }
  const fileLine = (f: FileResult): string => `file ${f.key} ${verdict(f)}`
  for (const digest of report.digests) {
    lines.push(`digest ${digest.key} ${verdict(digest)}`)
    lines.push(...(byDigest.get(digest.key) ?? []).map(fileLine))
    byDigest.delete(digest.key)
  }
  for (const files of byDigest.values()) lines.push(...files.map(fileLine))
  for (const finding of report.chainFindings) lines.push(`chain INVALID: ${finding.message}`)
  for (const file of report.pending) lines.push(`pending ${file.key} (${file.note})`)
  const { digests, files, chainFindings, findings, ok } = report.summary
  lines.push(
    '',
    `${plural(digests.valid + digests.invalid, 'digest')}: ${digests.valid} valid, ${digests.invalid} INVALID`,
    `${plural(files.valid + files.invalid, 'trace file')}: ${files.valid} valid, ${files.invalid} INVALID` +
      (files.contentNotChecked > 0
        ? ` (${files.contentNotChecked} encrypted, content not checked)`
        : '') +
      (files.pending > 0 ? `; ${files.pending} pending` : ''),
    `${plural(chainFindings, 'chain finding')}`,
    ok ? 'Result: valid' : `Result: INVALID (${plural(findings, 'finding')})`,
  )
  return `${lines.join('\n')}\n`
}
