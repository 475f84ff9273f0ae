/**
 * @module formats/trace-facts
 * Facts the open formats share, read from a trace the same way for all of them: who did it, its
 * request and response as JSON values where they parse, its time as text (what kind of operation
 * it records and whether it succeeded: model/trace-activity).
 */
import type { ApiTrace } from '../model/index.js'

/** The operator as the formats name it. */
export interface Operator {
  readonly name?: string
  readonly id?: string
  readonly accountId?: string
  readonly accountName?: string
  readonly accessKeyId?: string
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined

/** The operator of a trace (`user`): name, id, account (domain) and access key. */
export function operatorOf(trace: Pick<ApiTrace, 'user'>): Operator {
  const user = trace.user
  if (user === undefined) return {}
  const out: Record<string, string | undefined> = {
    name: text(user.name) ?? text(user.user_name),
    id: text(user.id),
    accountId: text(user.domain?.id) ?? text(user.account_id),
    accountName: text(user.domain?.name),
    accessKeyId: text(user.access_key_id),
  }
  return withoutUndefined(out)
}

/** A request or response body as a JSON value when it parses, else the text as it is. */
export function bodyValue(body: string | undefined): unknown {
  if (body === undefined) return undefined
  try {
    return JSON.parse(body) as unknown
  } catch {
    return body
  }
}

/** The object without its undefined members (so JSON output has no holes to explain). */
export function withoutUndefined<T extends Record<string, unknown>>(object: T): T {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(object)) if (value !== undefined) out[key] = value
  return out as T
}

/** ISO 8601 UTC with milliseconds; the number as text when it is no valid time. */
export function isoTime(ms: number): string {
  const date = new Date(ms)
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString()
}
