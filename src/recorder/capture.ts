/**
 * @module recorder/capture
 * Keeps the first bytes of a body that streams past (request to the upstream, response to the
 * client) without holding the rest: uploads of any size go through, at most `limit` bytes are kept
 * for the trace, and only when the content type is JSON or text. Also the identity of a request
 * (forwarded identity headers, or the access key of an AK/SK signature).
 */
import type { IncomingHttpHeaders } from 'node:http'
import { findDeepNesting } from '../model/index.js'

export class BodyTap {
  readonly #limit: number
  readonly #keep: boolean
  readonly #chunks: Buffer[] = []
  #kept = 0
  #total = 0
  #truncated = false

  constructor(contentType: string | undefined, limit: number) {
    this.#limit = limit
    this.#keep = isTextual(contentType)
  }

  push(chunk: Buffer): void {
    this.#total += chunk.length
    if (!this.#keep || this.#kept >= this.#limit) {
      if (this.#keep) this.#truncated = true
      return
    }
    const room = this.#limit - this.#kept
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk
    if (part.length < chunk.length) this.#truncated = true
    this.#chunks.push(part)
    this.#kept += part.length
  }

  /** Bytes seen in all. */
  get total(): number {
    return this.#total
  }

  /** The kept text, or undefined when the body was not textual or empty. */
  text(): string | undefined {
    if (!this.#keep || this.#kept === 0) return undefined
    return Buffer.concat(this.#chunks).toString('utf8')
  }

  /** The body parsed as JSON, when it was kept whole and is JSON. */
  json(): unknown {
    const text = this.text()
    if (text === undefined || this.#truncated) return undefined
    let value: unknown
    try {
      value = JSON.parse(text) as unknown
    } catch {
      return undefined
    }
    // Too deep to walk safely (a client's body): recorded as text only, like a non-JSON body.
    return findDeepNesting(value) === undefined ? value : undefined
  }
}

export function isTextual(contentType: string | undefined): boolean {
  if (contentType === undefined) return false
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? ''
  return (
    type === 'application/json' ||
    type.endsWith('+json') ||
    type.startsWith('application/openstack-images') ||
    type === 'application/xml' ||
    type.startsWith('text/')
  )
}

/** Where the identity of a recorded request comes from. */
export interface IdentityHeaders {
  readonly userId: string
  readonly userName: string
  readonly domainId: string
  readonly domainName: string
  readonly projectId: string
}

/** OpenStack-style forwarded identity (what keystonemiddleware sets, and Glance's noauth reads). */
export const DEFAULT_IDENTITY_HEADERS: IdentityHeaders = {
  userId: 'x-user-id',
  userName: 'x-user-name',
  domainId: 'x-user-domain-id',
  domainName: 'x-user-domain-name',
  projectId: 'x-project-id',
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  const text = Array.isArray(value) ? value[0] : value
  return text === undefined || text === '' ? undefined : text
}

export interface Identity {
  readonly projectId: string | undefined
  readonly user: {
    id?: string
    name?: string
    domain?: { id?: string; name?: string }
    access_key_id?: string
  } | null
}

/** The operator and project of a request: identity headers, else the AK of an AK/SK signature. */
export function identityOf(headers: IncomingHttpHeaders, names: IdentityHeaders): Identity {
  const user: NonNullable<Identity['user']> = {}
  const id = header(headers, names.userId)
  const name = header(headers, names.userName)
  const domainId = header(headers, names.domainId)
  const domainName = header(headers, names.domainName)
  if (id !== undefined) user.id = id
  if (name !== undefined) user.name = name
  if (domainId !== undefined || domainName !== undefined)
    user.domain = {
      ...(domainId === undefined ? {} : { id: domainId }),
      ...(domainName === undefined ? {} : { name: domainName }),
    }
  const auth = header(headers, 'authorization')
  // Huawei SDK-HMAC-SHA256 `Access=AK`, or AWS SigV4 `Credential=AK/date/region/service/…`.
  const ak =
    auth === undefined
      ? undefined
      : (/Access=([^,\s]+)/.exec(auth)?.[1] ?? /Credential=([^/,\s]+)\//.exec(auth)?.[1])
  if (ak !== undefined) user.access_key_id = ak
  const projectId = header(headers, names.projectId) ?? header(headers, 'x-tenant-id')
  return { projectId, user: Object.keys(user).length === 0 ? null : user }
}
