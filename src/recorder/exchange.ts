/**
 * @module recorder/exchange
 * One captured HTTP exchange: what the recorder runtime hands to the trace builders.
 */

/** The operator, from the authentication of the call (token or AK/SK). */
export interface ExchangeUser {
  readonly id?: string
  readonly name?: string
  readonly domain?: { readonly id?: string; readonly name?: string }
  readonly access_key_id?: string
}

/** One captured exchange. Bodies are already parsed JSON when JSON, else undefined. */
export interface Exchange {
  readonly method: string
  /** Path without the query. */
  readonly path: string
  /** Query string, with or without the leading `?`. */
  readonly query: string
  /** Upstream status (502 when the upstream was down). */
  readonly status: number
  /** Request headers; names may be in any case. */
  readonly requestHeaders: Readonly<Record<string, string>>
  readonly requestJson?: unknown
  /** The request body as text when it is text but not JSON (e.g. S3 XML). */
  readonly requestText?: string
  readonly requestBytes: number
  readonly responseJson?: unknown
  readonly responseText?: string
  /** Epoch ms when the request arrived: the trace's `time`. */
  readonly startedAt: number
  readonly durationMs: number
  readonly sourceIp: string
  readonly userAgent?: string
  readonly user: ExchangeUser | null
  /** The project the traces are reported to (`POST /v3/{project_id}/traces`). */
  readonly projectId: string
  /** Filled by the runtime when rule.lookup was done. */
  readonly lookupName?: string
  readonly requestId?: string
}
