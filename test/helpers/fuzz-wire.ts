/**
 * Test helper: turns fuzz requests into bytes (credentials applied at send time: a valid token, an
 * SDK-HMAC-SHA256 signature computed over the exact target sent, or bad ones), and builds the
 * transport-level malformations HTTP clients never send: bad chunks, oversize headers, bad request
 * lines, raw non-ASCII paths, duplicate or conflicting lengths, slow and aborted bodies.
 */
import { createHash, createHmac } from 'node:crypto'
import { canonicalRequest, formatSdkDate, stringToSign } from '../../src/auth/sdk-hmac.js'
import type { Random } from './fuzz-random.js'
import {
  SPARE_TOKEN_PLACEHOLDER,
  TOKEN_PLACEHOLDER,
  type AuthMode,
  type FuzzContext,
  type FuzzRequest,
} from './fuzz-requests.js'
import type { Piece } from './raw-http.js'

export interface Credentials {
  readonly accessKey: string
  readonly secretKey: string
  /** X-Auth-Token of the administrator, scoped to the admin project. */
  readonly token: string
  /** A second token of the administrator, which the fuzz never uses (revoked once). */
  readonly spareToken: string
}

type Headers = (readonly [string, string])[]

/** Authorization, X-Sdk-Date and the signed extras: a signature over exactly what is sent. */
export function signHeaders(
  method: string,
  target: string,
  headers: Headers,
  bodySha256: string,
  creds: Credentials,
): Headers {
  const sdkDate = formatSdkDate(Date.now())
  const all = new Map<string, string>()
  for (const [name, value] of headers) all.set(name.toLowerCase(), value.trim())
  all.set('x-sdk-date', sdkDate)
  const signed = [...all.keys()].sort()
  const q = target.indexOf('?')
  const request = {
    method,
    rawPath: q < 0 ? target : target.slice(0, q),
    rawQuery: q < 0 ? '' : target.slice(q + 1),
    headers: Object.fromEntries(all),
    bodySha256,
  }
  let text: string
  try {
    text = canonicalRequest(request, signed, 'decode')
  } catch {
    try {
      text = canonicalRequest(request, signed, 'raw')
    } catch {
      // A malformed query escape cannot be signed: send the unverifiable signature instead.
      return zeroSignature(creds)
    }
  }
  const signature = createHmac('sha256', creds.secretKey)
    .update(stringToSign(sdkDate, text))
    .digest('hex')
  return [
    ['X-Sdk-Date', sdkDate],
    [
      'Authorization',
      `SDK-HMAC-SHA256 Access=${creds.accessKey}, SignedHeaders=${signed.join(';')}, ` +
        `Signature=${signature}`,
    ],
  ]
}

/** The unverifiable signature of defect 1: any active AK, 64 zeros, fresh date. */
export function zeroSignature(creds: Credentials): Headers {
  return [
    ['X-Sdk-Date', formatSdkDate(Date.now())],
    [
      'Authorization',
      `SDK-HMAC-SHA256 Access=${creds.accessKey}, SignedHeaders=host;x-sdk-date, ` +
        `Signature=${'0'.repeat(64)}`,
    ],
  ]
}

function sha256(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex')
}

/** Credential headers of `mode` for a request whose body hashes to `bodySha256`. */
export function authHeaders(
  mode: AuthMode,
  method: string,
  target: string,
  headers: Headers,
  bodySha256: string,
  creds: Credentials,
  ctx: FuzzContext,
): Headers {
  switch (mode) {
    case 'none':
      return []
    case 'bad-token':
      return [['X-Auth-Token', `octs1_${'A'.repeat(43)}`]]
    case 'token':
      return [['X-Auth-Token', creds.token]]
    case 'bad-signature':
      return zeroSignature(creds)
    case 'signed':
      return signHeaders(method, target, headers, bodySha256, creds)
    case 'signed-other-project': {
      const extra: Headers = [...headers, ['X-Project-Id', ctx.otherProjectId]]
      return [
        ['X-Project-Id', ctx.otherProjectId],
        ...signHeaders(method, target, extra, bodySha256, creds),
      ]
    }
  }
}

function head(method: string, target: string, headers: Headers): Buffer {
  const lines = [`${method} ${target} HTTP/1.1`, ...headers.map(([n, v]) => `${n}: ${v}`)]
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')
}

/** The bytes of a fuzz request (one request per connection: `Connection: close`). */
export function serialize(
  request: FuzzRequest,
  port: number,
  creds: Credentials,
  ctx: FuzzContext,
): Piece[] {
  const host = `127.0.0.1:${port}`
  const body = request.body ?? Buffer.alloc(0)
  const base: Headers = [
    ['Host', host],
    ...request.headers.map(
      ([name, value]) =>
        [
          name,
          value === TOKEN_PLACEHOLDER
            ? creds.token
            : value === SPARE_TOKEN_PLACEHOLDER
              ? creds.spareToken
              : value,
        ] as const,
    ),
  ]
  const auth = authHeaders(
    request.auth,
    request.method,
    request.target,
    base,
    sha256(body),
    creds,
    ctx,
  )
  const headers: Headers = [...base, ['Connection', 'close'], ...auth]
  if (request.body !== undefined) headers.push(['Content-Length', String(body.length)])
  return request.body === undefined || body.length === 0
    ? [head(request.method, request.target, headers)]
    : [head(request.method, request.target, headers), body]
}

/** A transport-level case: its bytes are built at send time (fresh signature dates). */
export interface TransportCase {
  readonly label: string
  readonly note: string
  /** Whether the server must answer (parser errors need a CTS answer); else only "no crash". */
  readonly mustAnswer: boolean
  readonly timeoutMs: number
  readonly build: (port: number, creds: Credentials) => Piece[]
}

const TRACE_BODY = Buffer.from('{"traces":[]}')

/**
 * How long a slow or stalled request may wait for its answer: the fuzzed server runs with a
 * 1 s headers timeout and a 2 s request timeout, so it must answer 408 well within this.
 */
const SLOW_WAIT_MS = 5_000

function projectRoutes(ctx: FuzzContext): string[] {
  const p = ctx.projectId
  return [
    `/v3/${p}/traces`,
    `/v3/${p}/trackers?tracker_name=system`,
    `/v3/${p}/notifications?notification_id=x`,
    `/v3/${p}/tracker`,
    `/v3/${p}/quotas`,
  ]
}

/** Transport malformations, about `count` of them, with seeded variety. */
export function transportCases(ctx: FuzzContext, r: Random, count: number): TransportCase[] {
  const out: TransportCase[] = []
  const answer = (
    label: string,
    note: string,
    build: (port: number, creds: Credentials) => Piece[],
    timeoutMs = 8_000,
  ): void => {
    out.push({ label, note, mustAnswer: true, timeoutMs, build })
  }
  const survive = (
    label: string,
    note: string,
    build: (port: number, creds: Credentials) => Piece[],
    timeoutMs: number,
  ): void => {
    out.push({ label, note, mustAnswer: false, timeoutMs, build })
  }
  const host = (port: number): [string, string] => ['Host', `127.0.0.1:${port}`]
  const credsFor = (
    mode: 'none' | 'token' | 'zero' | 'signed',
    method: string,
    target: string,
    base: Headers,
    bodySha: string,
    creds: Credentials,
  ): Headers =>
    mode === 'none'
      ? []
      : mode === 'token'
        ? [['X-Auth-Token', creds.token]]
        : mode === 'zero'
          ? zeroSignature(creds)
          : signHeaders(method, target, base, bodySha, creds)
  const modes = ['none', 'token', 'zero', 'signed'] as const
  const chunkErrors: [string, string][] = [
    ['bad chunk size', 'zz\r\n'],
    ['huge chunk size', 'ffffffffffffffffff\r\nabc\r\n'],
    ['negative chunk size', '-1\r\nabc\r\n'],
    ['chunk without CRLF after data', '3\r\nabcXY\r\n0\r\n\r\n'],
    ['oversize chunk extension', `1;${'x'.repeat(20_000)}\r\na\r\n0\r\n\r\n`],
    ['space in chunk size', '1 0\r\n0123456789abcdef\r\n0\r\n\r\n'],
    ['bad trailer', '0\r\nX: \u0000\r\n\r\n'],
  ]
  while (out.length < count) {
    const mode = r.pick(modes)
    const method = r.pick(['GET', 'DELETE', 'POST', 'PUT'])
    const target = r.pick(projectRoutes(ctx))
    const kind = r.int(0, 13)
    if (kind <= 2) {
      const [name, bytes] = r.pick(chunkErrors)
      // After a pause the bad chunk reaches a request already in its hooks (body hashing etc.).
      const pause = r.chance(0.5) ? 40 : 0
      const typed = r.chance(0.5)
      const first = r.chance(0.5) ? '5\r\n{"tra\r\n' : ''
      const how =
        `${pause > 0 ? 'after a pause' : 'in one write'}, ${typed ? 'JSON' : 'no content type'}, ` +
        `${first === '' ? 'first chunk' : 'second chunk'}, auth=${mode}`
      answer(`chunked: ${name}`, `${method} ${target} ${how}`, (port, creds) => {
        const base: Headers = [
          host(port),
          ...(typed ? [['Content-Type', 'application/json'] as const] : []),
        ]
        const headers: Headers = [
          ...base,
          ['Transfer-Encoding', 'chunked'],
          ...credsFor(mode, method, target, base, sha256(TRACE_BODY), creds),
        ]
        return [
          head(method, target, headers),
          { pauseMs: pause },
          Buffer.from(`${first}${bytes}`, 'latin1'),
        ]
      })
    } else if (kind === 3) {
      const end = r.chance(0.5)
      const label = end ? 'chunked: truncated, then FIN' : 'chunked: truncated, then silence'
      const build = (port: number, creds: Credentials): Piece[] => {
        const base: Headers = [host(port), ['Content-Type', 'application/json']]
        const headers: Headers = [
          ...base,
          ['Transfer-Encoding', 'chunked'],
          ...credsFor(mode, method, target, base, sha256(TRACE_BODY), creds),
        ]
        return [
          head(method, target, headers),
          Buffer.from('10\r\n{"tra'),
          ...(end ? ['end' as const] : []),
        ]
      }
      if (end) answer(label, `${method} ${target} auth=${mode}`, build, 5_000)
      else answer(label, `${method} ${target} auth=${mode}`, build, SLOW_WAIT_MS)
    } else if (kind === 4) {
      const variant = r.int(0, 2)
      answer('headers: oversize', `variant ${variant} auth=${mode}`, (port, creds) => {
        const base: Headers = [host(port)]
        if (variant === 0) base.push(['X-Big', 'x'.repeat(20_000)])
        else if (variant === 1)
          for (let i = 0; i < 300; i++) base.push([`X-H${i}`, 'y'.repeat(100)])
        else base.push(['Cookie', `c=${'z'.repeat(70_000)}`])
        return [head('GET', target, [...base, ...credsFor(mode, 'GET', target, [], '', creds)])]
      })
    } else if (kind === 5) {
      const line = r.pick([
        'GARBAGE',
        'GET',
        'GET /health HTTP/9.9',
        'GET /health HTTP/1.1 extra',
        'get /health HTTP/1.1',
        'FOO /health HTTP/1.1',
        'GET  /health HTTP/1.1',
        'GET /he alth HTTP/1.1',
        'GET http://evil.example/health HTTP/1.1',
        'GET * HTTP/1.1',
        'GET health HTTP/1.1',
        'CONNECT 127.0.0.1:22 HTTP/1.1',
        `GET /v3/${ctx.projectId}/traces?${'a'.repeat(100_000)} HTTP/1.1`,
        'GET /health HTTP/1.1\u0000',
        'GET /\t/health HTTP/1.1',
        'PRI * HTTP/2.0',
        '\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003',
      ])
      answer('request line: malformed', JSON.stringify(line.slice(0, 60)), (port) => [
        Buffer.from(`${line}\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`, 'latin1'),
      ])
    } else if (kind === 6) {
      const bytes = r.pick([[0xff], [0x80], [0xc3, 0xa9], [0x7f], [0x01], [0xe2, 0x80, 0xae]])
      answer('path: raw non-ASCII byte', `bytes ${bytes.join(',')} auth=${mode}`, (port, creds) => {
        const path = Buffer.concat([
          Buffer.from(`GET /v3/${ctx.projectId}/traces/`),
          Buffer.from(bytes),
          Buffer.from(' HTTP/1.1\r\n'),
        ])
        const headers = [
          host(port),
          ['Connection', 'close'] as const,
          ...credsFor(mode, 'GET', `/v3/${ctx.projectId}/traces`, [], '', creds),
        ]
        return [path, Buffer.from(`${headers.map(([n, v]) => `${n}: ${v}`).join('\r\n')}\r\n\r\n`)]
      })
    } else if (kind === 7) {
      const variant = r.pick([
        ['Content-Length: 13', 'Content-Length: 13'],
        ['Content-Length: 13', 'Content-Length: 5'],
        ['Content-Length: 13, 13'],
        ['Content-Length: abc'],
        ['Content-Length: -1'],
        ['Content-Length: 1.5'],
        ['Content-Length: 99999999999999999999'],
        ['Content-Length: 0x0d'],
        ['Content-Length: 13', 'Transfer-Encoding: chunked'],
        ['Transfer-Encoding: gzip'],
        ['Transfer-Encoding: chunked, chunked'],
        ['Transfer-Encoding: identity', 'Content-Length: 13'],
        ['Transfer-Encoding: xchunked'],
        ['Transfer-Encoding: chunked', 'Transfer-Encoding: gzip'],
      ])
      answer(
        'framing: conflicting lengths',
        `${variant.join(' | ')} auth=${mode}`,
        (port, creds) => {
          const base: Headers = [host(port), ['Content-Type', 'application/json']]
          const lines = [
            `POST /v3/${ctx.projectId}/traces HTTP/1.1`,
            ...[
              ...base,
              ['Connection', 'close'] as const,
              ...credsFor(
                mode,
                'POST',
                `/v3/${ctx.projectId}/traces`,
                base,
                sha256(TRACE_BODY),
                creds,
              ),
            ].map(([n, v]) => `${n}: ${v}`),
            ...variant,
          ]
          return [Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), TRACE_BODY, 'end']
        },
      )
    } else if (kind === 8) {
      const raw = r.pick([
        'X-Bad: a\u0000b',
        'X Bad: 1',
        'NoColonHere',
        'X-Fold: a\r\n  folded',
        ': empty-name',
        'X-Del: \u007f',
        'Host: a\r\nHost: b',
        'Content-Type: application/json\r\nContent-Type: text/plain',
        'X-Auth-Token: a\r\nX-Auth-Token: b',
        'Expect: something-else',
        'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13',
        'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA',
      ])
      answer('headers: malformed', JSON.stringify(raw), (port) => [
        Buffer.from(
          `GET /v3/${ctx.projectId}/quotas HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n${raw}\r\n\r\n`,
          'latin1',
        ),
      ])
    } else if (kind === 9 && r.chance(0.5)) {
      answer(
        'slow body',
        `1 byte per 250 ms, auth=${mode}`,
        (port, creds) => {
          const base: Headers = [host(port), ['Content-Type', 'application/json']]
          const headers: Headers = [
            ...base,
            ['Content-Length', '100'],
            ['Connection', 'close'],
            ...credsFor(
              mode,
              'POST',
              `/v3/${ctx.projectId}/traces`,
              base,
              sha256(TRACE_BODY),
              creds,
            ),
          ]
          const pieces: Piece[] = [head('POST', `/v3/${ctx.projectId}/traces`, headers)]
          for (let i = 0; i < 8; i++) pieces.push(Buffer.from('{'), { pauseMs: 250 })
          return pieces
        },
        SLOW_WAIT_MS,
      )
    } else if (kind === 10 && r.chance(0.5)) {
      const variant = r.int(0, 2)
      const label = ['slow headers', 'idle connection', 'connect, then FIN'][variant] ?? 'slow'
      const build = (port: number): Piece[] =>
        variant === 0
          ? [
              Buffer.from(`GET /v3/${ctx.projectId}/quotas HTTP/1.1\r\n`),
              { pauseMs: 300 },
              Buffer.from(`Host: 127.0.0.1:${port}\r\n`),
              { pauseMs: 300 },
              Buffer.from('X-A: 1\r\n'),
              { pauseMs: 300 },
              Buffer.from('X-B: 2\r\n'),
            ]
          : variant === 1
            ? []
            : ['end']
      if (variant === 0) answer(label, `auth=${mode}`, build, SLOW_WAIT_MS)
      else survive(label, `auth=${mode}`, build, 2_000)
    } else if (kind === 11) {
      const end = r.chance(0.5)
      ;(end ? survive : answer)(
        'aborted body',
        `${end ? 'FIN' : 'silence'} after 10 of 1000 bytes, auth=${mode}`,
        (port, creds) => {
          const base: Headers = [host(port), ['Content-Type', 'application/json']]
          const headers: Headers = [
            ...base,
            ['Content-Length', '1000'],
            ...credsFor(mode, method, target, base, sha256(TRACE_BODY), creds),
          ]
          return [
            head(method, target, headers),
            Buffer.from('{"traces":'),
            ...(end ? ['end' as const] : []),
          ]
        },
        end ? 2_000 : SLOW_WAIT_MS,
      )
    } else if (kind === 12 && r.chance(0.15)) {
      const close = r.chance(0.5)
      answer(
        'oversize body',
        `13 MB POST traces, ${close ? 'Connection: close' : 'keep-alive'}, auth=${mode}`,
        (port, creds) => {
          const body = Buffer.alloc(13 * 1024 * 1024, 0x20)
          const base: Headers = [host(port), ['Content-Type', 'application/json']]
          const headers: Headers = [
            ...base,
            ['Content-Length', String(body.length)],
            ...(close ? [['Connection', 'close'] as const] : []),
            ...credsFor(mode, 'POST', `/v3/${ctx.projectId}/traces`, base, sha256(body), creds),
          ]
          return [head('POST', `/v3/${ctx.projectId}/traces`, headers), body]
        },
        15_000,
      )
    } else if (kind === 13) {
      answer('expect: 100-continue', `auth=${mode}`, (port, creds) => {
        const base: Headers = [host(port), ['Content-Type', 'application/json']]
        const headers: Headers = [
          ...base,
          ['Expect', '100-continue'],
          ['Content-Length', String(TRACE_BODY.length)],
          ['Connection', 'close'],
          ...credsFor(mode, 'POST', `/v3/${ctx.projectId}/traces`, base, sha256(TRACE_BODY), creds),
        ]
        return [head('POST', `/v3/${ctx.projectId}/traces`, headers), { pauseMs: 50 }, TRACE_BODY]
      })
    }
  }
  return out
}
