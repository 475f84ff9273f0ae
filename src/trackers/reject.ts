/**
 * @module trackers/reject
 * Throws catalogue errors whose message keeps the CTS text and adds the detail a client needs
 * (`The value of tracker_name parameter is in an incorrect format: "-x" must start with a letter or
 * digit.`), so that both CTS-aware tooling and people reading the message are served.
 */
import { ERROR_CATALOGUE, ctsError, type ErrorCode } from '../errors/index.js'

/** Throws `code` with the message `<catalogue message>: <detail>.` */
export function reject(code: ErrorCode, detail: string): never {
  const base = ERROR_CATALOGUE[code].message.replace(/\.$/, '')
  throw ctsError(code, `${base}: ${detail}.`)
}
