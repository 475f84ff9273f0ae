/**
 * @module auth/sdk-hmac
 * Huawei Cloud AK/SK request signing, algorithm `SDK-HMAC-SHA256` (spec §3.1–§3.5): the verifier the
 * API runs for AK/SK callers and the signer the CLI uses. Pure: imports only `node:crypto`; the clock
 * comes in as `now`. Byte-exact format (UTF-8 text, hex in lowercase):
 *
 * ```text
 * CanonicalRequest = Method "\n" CanonicalURI "\n" CanonicalQuery "\n" CanonicalHeaders "\n"
 *                    SignedHeaders "\n" PayloadHash
 * StringToSign     = "SDK-HMAC-SHA256" "\n" <X-Sdk-Date value> "\n" hex(SHA-256(CanonicalRequest))
 * Signature        = hex(HMAC-SHA-256(key = SK, StringToSign))
 * Authorization    = "SDK-HMAC-SHA256 Access=" AK ", SignedHeaders=" SignedHeaders ", Signature=" Signature
 * ```
 *
 * - CanonicalURI: each `/` segment RFC 3986 encoded (unreserved `A-Za-z0-9-._~` literal, everything
 *   else `%XY` of its UTF-8 bytes, uppercase hex), always ending with `/`.
 * - CanonicalQuery: pairs percent-decoded (`+` is a space), sorted by decoded name then decoded value
 *   in UTF-16 code-unit order (as every Huawei signer sorts its raw parameters), each side RFC 3986
 *   encoded, `name=value` joined by `&`; a valueless parameter is `name=`.
 * - CanonicalHeaders: `name:trimmed-value\n` per signed header, in SignedHeaders order.
 * - PayloadHash: SHA-256 of the body bytes, or `UNSIGNED-PAYLOAD` when a signed
 *   `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` header says so.
 *
 * The Node SDK signs the path before its HTTP client re-encodes it (spec §3.4 item 4), so the verifier
 * accepts either canonical URI derived from the received path: decode-then-encode, or encode-as-received.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

export const SDK_HMAC_ALGORITHM = 'SDK-HMAC-SHA256'
/** Accepted difference between X-Sdk-Date and the server clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60_000
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD'
/** SHA-256 of the empty body, lowercase hex. */
export const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

const UTF8 = new TextEncoder()
const UNRESERVED = /^[A-Za-z0-9\-._~]$/
/** An HTTP field name (RFC 9110 token), lowercase. */
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/
const SIGNATURE = /^[0-9a-f]{64}$/
const SDK_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/
const AUTHORIZATION =
  /^SDK-HMAC-SHA256 +Access=([^,]*), *SignedHeaders=([^,]*), *Signature=([^,]*)$/

export interface ParsedAuthorization {
  readonly accessKeyId: string
  /** Lowercase header names exactly as listed in SignedHeaders, in the given order. */
  readonly signedHeaders: readonly string[]
  /** 64 lowercase hex characters. */
  readonly signature: string
}

/**
 * Parses `SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex`; returns a reason string on
 * failure. Extra spaces after the commas are tolerated; empty, duplicate or non-lowercase
 * SignedHeaders entries are refused (no SDK sends them).
 */
export function parseAuthorization(
  header: string,
): ParsedAuthorization | { readonly error: string } {
  const scheme = /^\S*/.exec(header)?.[0] ?? ''
  if (scheme !== SDK_HMAC_ALGORITHM) {
    return { error: `unsupported authorization algorithm '${scheme.slice(0, 32)}'` }
  }
  const match = AUTHORIZATION.exec(header)
  if (match === null) return { error: 'malformed Authorization header' }
  const [, accessKeyId = '', signed = '', signature = ''] = match
  if (!/^[^\s,;=]+$/.test(accessKeyId)) return { error: 'malformed Access in Authorization' }
  const signedHeaders = signed.split(';')
  const seen = new Set<string>()
  for (const name of signedHeaders) {
    if (name === '') return { error: 'empty SignedHeaders entry' }
    if (!HEADER_NAME.test(name)) return { error: 'SignedHeaders entries must be lowercase names' }
    if (seen.has(name)) return { error: `duplicate signed header ${name}` }
    seen.add(name)
  }
  if (!SIGNATURE.test(signature)) return { error: 'signature must be 64 lowercase hex characters' }
  return { accessKeyId, signedHeaders, signature }
}

/** Parses `YYYYMMDDTHHMMSSZ` (UTC) to epoch ms; undefined when malformed or not a real date. */
export function parseSdkDate(value: string): number | undefined {
  const match = SDK_DATE.exec(value)
  if (match === null) return undefined
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number)
  const ms = Date.UTC(year ?? NaN, (month ?? NaN) - 1, day, hour, minute, second)
  // Date.UTC rolls 31 April into 1 May and 24:00 into the next day: only an exact round trip is real.
  return Number.isNaN(ms) || formatSdkDate(ms) !== value ? undefined : ms
}

/** `YYYYMMDDTHHMMSSZ` (UTC, milliseconds dropped). Throws RangeError outside the years 0000–9999. */
export function formatSdkDate(ms: number): string {
  const text = new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '')
  if (!SDK_DATE.test(text)) throw new RangeError(`cannot format ${ms} as an X-Sdk-Date`)
  return text
}

/** The request as received by the server. */
export interface ReceivedRequest {
  readonly method: string
  /** Path as received on the wire, still percent-encoded, without the query. */
  readonly rawPath: string
  /** Query string as received, without the leading `?` ('' when none). */
  readonly rawQuery: string
  /** Node's `IncomingMessage.headers` (lowercase names; value string or string[]). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** Lowercase hex SHA-256 of the exact body bytes received (EMPTY_BODY_SHA256 when none). */
  readonly bodySha256: string
}

/** The trimmed value of a header (repeated values joined by ','); undefined when absent. */
function headerValue(headers: ReceivedRequest['headers'], name: string): string | undefined {
  // Own properties only: a SignedHeaders entry such as `constructor` must not reach the prototype.
  if (!Object.hasOwn(headers, name)) return undefined
  const value = headers[name]
  if (typeof value === 'string') return value.trim()
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
    return value.join(',').trim()
  }
  return undefined
}

function unsignedPayloadHeader(headers: ReceivedRequest['headers']): boolean {
  return headerValue(headers, 'x-sdk-content-sha256') === UNSIGNED_PAYLOAD
}

/**
 * Checks everything that does not need the secret key: x-sdk-date present, well-formed, listed in
 * SignedHeaders and within MAX_CLOCK_SKEW_MS of `now`; `host` listed in SignedHeaders;
 * an `x-sdk-content-sha256: UNSIGNED-PAYLOAD` header only honoured when it is signed (and refused
 * altogether when `allowUnsignedPayload` is false); every signed header present.
 * Returns null when fine, else a short reason such as 'signature expired' (used in the 401 message).
 */
export function precheckSignedRequest(
  request: ReceivedRequest,
  auth: ParsedAuthorization,
  options: { readonly now: number; readonly allowUnsignedPayload?: boolean },
): string | null {
  const signed = new Set(auth.signedHeaders)
  if (!signed.has('x-sdk-date')) return 'x-sdk-date not signed'
  if (!signed.has('host')) return 'host not signed'
  for (const name of auth.signedHeaders) {
    if (headerValue(request.headers, name) === undefined) return `signed header ${name} missing`
  }
  const date = parseSdkDate(headerValue(request.headers, 'x-sdk-date') ?? '')
  if (date === undefined) return 'malformed x-sdk-date'
  if (date < options.now - MAX_CLOCK_SKEW_MS) return 'signature expired'
  if (date > options.now + MAX_CLOCK_SKEW_MS) return 'x-sdk-date in the future'
  if (unsignedPayloadHeader(request.headers)) {
    if (options.allowUnsignedPayload === false) return 'unsigned payload not allowed'
    if (!signed.has('x-sdk-content-sha256')) return 'x-sdk-content-sha256 not signed'
  }
  return null
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

function hmacHex(secretKey: string, text: string): string {
  return createHmac('sha256', secretKey).update(text, 'utf8').digest('hex')
}

/** RFC 3986 encoding of the UTF-8 bytes of `text` (lone surrogates become U+FFFD). */
function encode(text: string): string {
  let out = ''
  for (const byte of UTF8.encode(text)) {
    const char = String.fromCharCode(byte)
    out += UNRESERVED.test(char)
      ? char
      : `%${byte < 16 ? '0' : ''}${byte.toString(16).toUpperCase()}`
  }
  return out
}

/** Throws URIError on a malformed percent-escape. */
function canonicalUri(rawPath: string, mode: 'decode' | 'raw'): string {
  const path = rawPath
    .split('/')
    .map((segment) => encode(mode === 'decode' ? decodeURIComponent(segment) : segment))
    .join('/')
  return path.endsWith('/') ? path : `${path}/`
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Throws URIError on a malformed percent-escape. */
function canonicalQuery(rawQuery: string): string {
  const formDecode = (text: string): string => decodeURIComponent(text.replace(/\+/g, '%20'))
  return rawQuery
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair): [string, string] => {
      const equals = pair.indexOf('=')
      return equals < 0
        ? [formDecode(pair), '']
        : [formDecode(pair.slice(0, equals)), formDecode(pair.slice(equals + 1))]
    })
    .sort(([nameA, valueA], [nameB, valueB]) => compare(nameA, nameB) || compare(valueA, valueB))
    .map(([name, value]) => `${encode(name)}=${encode(value)}`)
    .join('&')
}

/**
 * Exposed for tests and debugging. mode 'decode' = decode each segment then encode; 'raw' = encode as
 * received. A signed header that is absent contributes an empty value. Throws URIError when the path
 * (mode 'decode') or the query holds a malformed percent-escape.
 */
export function canonicalRequest(
  request: ReceivedRequest,
  signedHeaders: readonly string[],
  mode: 'decode' | 'raw',
): string {
  const headerLines = signedHeaders
    .map((name) => `${name}:${headerValue(request.headers, name) ?? ''}\n`)
    .join('')
  const payloadHash =
    signedHeaders.includes('x-sdk-content-sha256') && unsignedPayloadHeader(request.headers)
      ? UNSIGNED_PAYLOAD
      : request.bodySha256
  return [
    request.method,
    canonicalUri(request.rawPath, mode),
    canonicalQuery(request.rawQuery),
    headerLines,
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n')
}

export function stringToSign(sdkDate: string, canonicalRequestText: string): string {
  return `${SDK_HMAC_ALGORITHM}\n${sdkDate}\n${sha256Hex(canonicalRequestText)}`
}

/**
 * True when `auth.signature` is the HMAC-SHA256 with `secretKey` of the string to sign of `request`,
 * for either canonical-URI variant of spec §3.4 item 4 (decode-then-encode, or encode-as-received).
 * Compares in constant time (crypto.timingSafeEqual on equal-length buffers). Never throws on hostile
 * input (bad percent-escapes etc.: that variant just does not match). False when x-sdk-date or a
 * signed header is absent. Does not check the clock: run precheckSignedRequest first.
 */
export function verifySignature(
  request: ReceivedRequest,
  auth: ParsedAuthorization,
  secretKey: string,
): boolean {
  if (!SIGNATURE.test(auth.signature)) return false
  const sdkDate = headerValue(request.headers, 'x-sdk-date')
  if (sdkDate === undefined) return false
  if (auth.signedHeaders.some((name) => headerValue(request.headers, name) === undefined)) {
    return false
  }
  const given = UTF8.encode(auth.signature)
  const tried = new Set<string>()
  let verified = false
  for (const mode of ['decode', 'raw'] as const) {
    let text: string
    try {
      text = canonicalRequest(request, auth.signedHeaders, mode)
    } catch {
      continue
    }
    if (tried.has(text)) continue
    tried.add(text)
    const expected = UTF8.encode(hmacHex(secretKey, stringToSign(sdkDate, text)))
    if (timingSafeEqual(expected, given)) verified = true
  }
  return verified
}

/**
 * Client side, used by the OpenCTS CLI: signs a request the way the Huawei Node SDK does. Returns the
 * headers to send in addition to `headers` (`X-Sdk-Date`, `Authorization`, and `X-Sdk-Content-Sha256`
 * when `unsignedPayload`). Signs every header in `headers` plus `host` (from `url`, with port if any)
 * and `x-sdk-date`. `url` may carry a query string; it is canonicalised from the URL.
 * The method is upper-cased for signing: send it upper-case. A `host` in `headers` replaces the URL's.
 * Throws TypeError for a header the signer owns (Authorization, X-Sdk-Date, X-Sdk-Content-Sha256),
 * a header given twice, an invalid header name or value, or an Access key with spaces or commas;
 * URIError when the URL's query holds a malformed percent-escape.
 */
export function signRequest(input: {
  readonly method: string
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  readonly body?: string | Uint8Array
  readonly accessKeyId: string
  readonly secretKey: string
  readonly now: number
  readonly unsignedPayload?: boolean
}): Record<string, string> {
  if (!/^[^\s,;=]+$/.test(input.accessKeyId)) throw new TypeError('invalid access key id')
  const sdkDate = formatSdkDate(input.now)
  const headers = new Map<string, string>()
  for (const [name, value] of Object.entries(input.headers)) {
    const lower = name.toLowerCase()
    if (!HEADER_NAME.test(lower)) throw new TypeError(`invalid header name '${name}'`)
    if (/[\r\n\0]/.test(value)) throw new TypeError(`invalid value for header ${name}`)
    if (['authorization', 'x-sdk-date', 'x-sdk-content-sha256'].includes(lower)) {
      throw new TypeError(`header ${name} is set by the signer`)
    }
    if (headers.has(lower)) throw new TypeError(`header ${lower} given twice`)
    headers.set(lower, value.trim())
  }
  if (!headers.has('host')) headers.set('host', input.url.host)
  headers.set('x-sdk-date', sdkDate)
  if (input.unsignedPayload === true) headers.set('x-sdk-content-sha256', UNSIGNED_PAYLOAD)
  const signedHeaders = [...headers.keys()].sort(compare)
  const body = input.body ?? ''
  const request: ReceivedRequest = {
    method: input.method.toUpperCase(),
    rawPath: input.url.pathname,
    rawQuery: input.url.search.slice(1),
    headers: Object.fromEntries(headers),
    bodySha256: createHash('sha256')
      .update(typeof body === 'string' ? UTF8.encode(body) : body)
      .digest('hex'),
  }
  let text: string
  try {
    text = canonicalRequest(request, signedHeaders, 'decode')
  } catch {
    // WHATWG URL leaves a stray '%' in the path as is; the verifier's 'raw' variant matches that.
    text = canonicalRequest(request, signedHeaders, 'raw')
  }
  const signature = hmacHex(input.secretKey, stringToSign(sdkDate, text))
  const out: Record<string, string> = {
    'X-Sdk-Date': sdkDate,
    Authorization:
      `${SDK_HMAC_ALGORITHM} Access=${input.accessKeyId}, ` +
      `SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`,
  }
  if (input.unsignedPayload === true) out['X-Sdk-Content-Sha256'] = UNSIGNED_PAYLOAD
  return out
}
