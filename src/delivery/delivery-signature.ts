/**
 * @module delivery/delivery-signature
 * How a receiver knows a notification came from OpenCTS. Every HTTP delivery carries:
 *   X-OpenCTS-Delivery-Id: <the delivery's stable id>
 *   X-OpenCTS-Timestamp:   <unix seconds when this attempt was sent>
 *   X-OpenCTS-Signature:   v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
 * where `secret` is the subscription's (or function's) signing secret, shown once when it is
 * created, and `body` the exact bytes of the request body. A receiver recomputes the HMAC over the
 * raw body, compares in constant time, and rejects timestamps more than 5 minutes away (replay).
 * Redeliveries keep the delivery id: receivers deduplicate on it. Pure (`node:crypto`).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

export const SIGNATURE_HEADER = 'x-opencts-signature'
export const TIMESTAMP_HEADER = 'x-opencts-timestamp'
export const DELIVERY_ID_HEADER = 'x-opencts-delivery-id'
/** How far a timestamp may be from the receiver's clock. */
export const DEFAULT_TOLERANCE_SECONDS = 300

/** A new signing secret: 32 random bytes, base64url, prefixed `whsec_`. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`
}

/** `v1=<hex>` for this timestamp and body. */
export function signDelivery(secret: string, timestamp: number, body: string | Uint8Array): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')
  return `v1=${mac}`
}

/** The headers of one attempt. */
export function deliveryHeaders(
  secret: string,
  deliveryId: string,
  nowMs: number,
  body: string,
): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000)
  return {
    [DELIVERY_ID_HEADER]: deliveryId,
    [TIMESTAMP_HEADER]: String(timestamp),
    [SIGNATURE_HEADER]: signDelivery(secret, timestamp, body),
  }
}

/**
 * Checks a received delivery: true when the signature is the HMAC of `timestamp.body` under
 * `secret` and the timestamp is within `toleranceSeconds` of `nowMs`. Never throws.
 */
export function verifyDelivery(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  body: string | Uint8Array,
  nowMs: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): boolean {
  const { timestamp, signature } = headers
  if (timestamp === undefined || signature === undefined || !/^\d{1,12}$/.test(timestamp))
    return false
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSeconds) return false
  const want = Buffer.from(signDelivery(secret, Number(timestamp), body))
  const got = Buffer.from(signature)
  return got.length === want.length && timingSafeEqual(got, want)
}
