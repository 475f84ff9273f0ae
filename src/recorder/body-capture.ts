/**
 * @module recorder/body-capture
 * How much of a body goes into a trace. Pure.
 *
 * - Text is captured up to MAX_CAPTURE_BYTES UTF-8 bytes; longer text is cut on a character boundary
 *   and ends with the marker `…[truncated, N bytes]` (N = the full size), still within the cap.
 * - JSON is redacted first, then serialised, then capped (a capped JSON text is no longer JSON).
 * - `application/octet-stream` is never captured: the trace's `message` carries
 *   `content_type=…; content_length=N` instead.
 */
import { utf8Length } from '../model/index.js'

/** Max UTF-8 bytes of a captured request or response text (the ingest limit is 100 KB). */
export const MAX_CAPTURE_BYTES = 64 * 1024

/** Caps a text at `max` UTF-8 bytes (marker included). */
export function truncateText(text: string, max: number = MAX_CAPTURE_BYTES): string {
  const total = utf8Length(text)
  if (total <= max) return text
  const marker = `…[truncated, ${total} bytes]`
  const budget = max - utf8Length(marker)
  let bytes = 0
  let end = 0
  for (const ch of text) {
    const size = utf8Length(ch)
    if (bytes + size > budget) break
    bytes += size
    end += ch.length
  }
  return text.slice(0, end) + marker
}

/** Caps a text at `max` UTF-16 characters (short string fields such as resource_name). */
export function clip(value: string | undefined, max: number): string | undefined {
  if (value === undefined) return undefined
  return value.length <= max ? value : value.slice(0, max)
}

/** The lower-cased media type of a content-type header value (`application/json`), or ''. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
}

/** Whether a body of this content type is binary and must never be captured. */
export function isOctetStream(contentType: string | undefined): boolean {
  return mediaType(contentType) === 'application/octet-stream'
}
