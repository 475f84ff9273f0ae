/**
 * @module insights/detectors/ids
 * Deterministic ids: an insight's id and each of its events' ids are UUID-shaped digests of what
 * the insight is about (type, project, subject, start), so that finding it again after a restart
 * gives the same ids and the store keeps it once.
 */
import { createHash } from 'node:crypto'

/** A UUID-shaped (version 8, RFC 9562 custom) SHA-256 digest of `text`. */
export function digestUuid(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex')
  const variant = ((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

/** The id shared by an insight's events, from its identifying parts. */
export function insightId(parts: readonly (string | number)[]): string {
  return digestUuid(`insight\u0000${parts.join('\u0000')}`)
}

/** The id of one event (start or end) of an insight. */
export function eventId(insight: string, state: 'start' | 'end'): string {
  return digestUuid(`event\u0000${insight}\u0000${state}`)
}
