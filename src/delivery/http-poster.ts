/**
 * @module delivery/http-poster
 * POSTs one delivery body over HTTP or HTTPS (`node:http`/`node:https`) with a timeout and, for
 * HTTPS, an optional CA bundle (config `OPENCTS_DELIVERY_CA_FILE`) trusted in addition to the
 * system's. Success is any 2xx answer; everything else is a failure to retry, except 410 Gone,
 * which is permanent (the receiver says the endpoint is gone for good).
 */
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { rootCertificates } from 'node:tls'

export interface PostResult {
  readonly ok: boolean
  /** True when retrying cannot help. */
  readonly permanent: boolean
  /** `HTTP 503` or the network error, for the delivery's `last_error`. */
  readonly detail: string
}

export interface HttpPosterOptions {
  readonly timeoutMs: number
  /** PEM certificates trusted for HTTPS besides the system's. */
  readonly ca?: string
}

export class HttpPoster {
  readonly #timeoutMs: number
  readonly #ca: string[] | undefined

  constructor(options: HttpPosterOptions) {
    this.#timeoutMs = options.timeoutMs
    this.#ca = options.ca === undefined ? undefined : [...rootCertificates, options.ca]
  }

  post(endpoint: string, body: string, headers: Record<string, string>): Promise<PostResult> {
    let url: URL
    try {
      url = new URL(endpoint)
    } catch {
      return Promise.resolve({ ok: false, permanent: true, detail: `invalid URL ${endpoint}` })
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    return new Promise((resolve) => {
      const req = send(
        url,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'user-agent': 'OpenCTS-Notifications/1',
            ...headers,
          },
          timeout: this.#timeoutMs,
          ...(url.protocol === 'https:' && this.#ca !== undefined ? { ca: this.#ca } : {}),
        },
        (res) => {
          res.resume()
          res.on('end', () => {
            const status = res.statusCode ?? 0
            resolve({
              ok: status >= 200 && status < 300,
              permanent: status === 410,
              detail: `HTTP ${status}`,
            })
          })
          res.on('error', (error) =>
            resolve({ ok: false, permanent: false, detail: error.message }),
          )
        },
      )
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)))
      req.on('error', (error) =>
        resolve({ ok: false, permanent: false, detail: error.message || String(error) }),
      )
      req.end(body)
    })
  }
}
