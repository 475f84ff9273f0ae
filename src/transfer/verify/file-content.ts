/**
 * @module transfer/verify/file-content
 * Checks what a trace file holds, apart from its hash: an envelope is opened when its master key
 * version is at hand (else its content is left unchecked, and said so); the plaintext must be one
 * gzip member (`.json.gz`) with nothing after it, or plain UTF-8 (`.json`), holding a JSON array of
 * objects. Pure (gzip and AES-GCM only).
 */
import type { CompressType } from '../../model/index.js'
import { isEnvelope, openEnvelope, readEnvelopeHeader, type MasterKeyVersion } from '../envelope.js'
import { NOTE, REASON } from './findings.js'
import { readGzipMember } from './gzip-member.js'

export interface ContentCheck {
  /** Findings (findings.ts REASON texts); empty when the content is valid or was not checked. */
  readonly problems: readonly string[]
  /** Bytes after the first gzip member (0 if none): reported instead of a hash mismatch. */
  readonly extraBytes: number
  /** Set when the content was not checked (encrypted, no key). */
  readonly notChecked?: string
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** The problem of a JSON trace array's bytes, or undefined when they are one. */
export function jsonArrayProblem(bytes: Uint8Array): string | undefined {
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    return REASON.invalidFormat('not UTF-8')
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return REASON.invalidFormat('not JSON')
  }
  if (!Array.isArray(value)) return REASON.invalidFormat('not a JSON array')
  const index = value.findIndex((v) => typeof v !== 'object' || v === null || Array.isArray(v))
  return index === -1 ? undefined : REASON.invalidFormat(`element ${index} is not an object`)
}

/** The plaintext of the stored bytes, a note when it cannot be had, or a problem. */
function plaintext(
  stored: Buffer,
  masterKeys: readonly MasterKeyVersion[] | undefined,
): { bytes: Buffer } | { notChecked: string } | { problem: string } {
  if (!isEnvelope(stored)) return { bytes: stored }
  if (masterKeys === undefined) return { notChecked: NOTE.encrypted }
  try {
    const { kmsId, keyVersion } = readEnvelopeHeader(stored)
    const key = masterKeys.find((k) => k.kmsId === kmsId && k.version === keyVersion)
    if (key === undefined) return { notChecked: NOTE.noKey(kmsId, keyVersion) }
    return { bytes: openEnvelope(stored, key) }
  } catch (error) {
    return { problem: REASON.decryptFailed(message(error)) }
  }
}

/**
 * Checks a trace file's stored bytes, named with extension `compress` (`gzip` → `.json.gz`).
 * `masterKeys` undefined: encrypted files are not opened.
 */
export function checkFileContent(
  stored: Buffer,
  compress: CompressType,
  masterKeys: readonly MasterKeyVersion[] | undefined,
): ContentCheck {
  const opened = plaintext(stored, masterKeys)
  if ('notChecked' in opened) return { problems: [], extraBytes: 0, notChecked: opened.notChecked }
  if ('problem' in opened) return { problems: [opened.problem], extraBytes: 0 }
  let json: Buffer = opened.bytes
  let extraBytes = 0
  const problems: string[] = []
  if (compress === 'gzip') {
    const member = readGzipMember(opened.bytes)
    if (!member.ok) return { problems: [REASON.invalidFormat(member.problem)], extraBytes: 0 }
    extraBytes = member.extraBytes
    if (extraBytes > 0) problems.push(REASON.extraData(extraBytes))
    json = member.content
  }
  const problem = jsonArrayProblem(json)
  if (problem !== undefined) problems.push(problem)
  return { problems, extraBytes }
}
