/**
 * @module recorder/match-route
 * Finds the rule of a request across route maps. Pure.
 *
 * Candidates: same method (case-insensitive), template matches the normalised path (see
 * route-template.ts), the rule's `query` key present and its `header` present. The most specific
 * candidate wins: a template without a greedy `{var+}` (an exact segment count) first, then fewest
 * variables, then the longest literal text, then more discriminators (query, header), then map order
 * and rule order.
 */
import type { RouteMap, RouteRule } from './route-map.js'
import {
  compileTemplate,
  matchTemplate,
  pathSegments,
  type CompiledTemplate,
} from './route-template.js'

export interface RouteMatch {
  readonly rule: RouteRule
  /** Template variables, percent-decoded (a greedy `{key+}` joins its segments with `/`). */
  readonly params: Readonly<Record<string, string>>
  readonly map: RouteMap
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** POST, PUT, PATCH and DELETE (any case). */
export function isMutating(method: string): boolean {
  return MUTATING.has(method.toUpperCase())
}

const compiled = new WeakMap<RouteRule, CompiledTemplate>()

function templateOf(rule: RouteRule): CompiledTemplate {
  let c = compiled.get(rule)
  if (c === undefined) {
    c = compileTemplate(rule.path)
    compiled.set(rule, c)
  }
  return c
}

/** The decoded keys of a query string (with or without the leading `?`). */
export function queryKeys(query: string): Set<string> {
  const keys = new Set<string>()
  for (const part of query.replace(/^\?/, '').split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const raw = (eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, ' ')
    try {
      keys.add(decodeURIComponent(raw))
    } catch {
      keys.add(raw)
    }
  }
  return keys
}

/** Negative when a is more specific than b. */
function compare(a: RouteRule, b: RouteRule): number {
  const ta = templateOf(a)
  const tb = templateOf(b)
  const discriminators = (r: RouteRule): number =>
    (r.query === undefined ? 0 : 1) + (r.header === undefined ? 0 : 1)
  return (
    Number(ta.greedy) - Number(tb.greedy) ||
    ta.variables.length - tb.variables.length ||
    tb.literalLength - ta.literalLength ||
    discriminators(b) - discriminators(a)
  )
}

/**
 * The most specific rule for a request, or undefined. `path` is the request path (a `?query` part
 * is split off and used as `query` when `query` is not given); `headers` are matched by lower-cased
 * name and only matter for rules with a `header` discriminator.
 */
export function matchRoute(
  maps: readonly RouteMap[],
  method: string,
  path: string,
  query?: string,
  headers: Readonly<Record<string, string>> = {},
): RouteMatch | undefined {
  const q = path.indexOf('?')
  const queryText = query ?? (q < 0 ? '' : path.slice(q + 1))
  const segments = pathSegments(path)
  const upper = method.toUpperCase()
  let keys: Set<string> | undefined
  let headerNames: Set<string> | undefined
  let best: RouteMatch | undefined
  for (const map of maps) {
    for (const rule of map.routes) {
      if (rule.method !== upper) continue
      if (rule.query !== undefined) {
        keys ??= queryKeys(queryText)
        if (!keys.has(rule.query)) continue
      }
      if (rule.header !== undefined) {
        headerNames ??= new Set(Object.keys(headers).map((h) => h.toLowerCase()))
        if (!headerNames.has(rule.header.toLowerCase())) continue
      }
      const params = matchTemplate(templateOf(rule), segments)
      if (params === undefined) continue
      if (best === undefined || compare(rule, best.rule) < 0) best = { rule, params, map }
    }
  }
  return best
}

/** The bucket of an S3 match (the `{bucket}` variable), for choosing data trackers. */
export function bucketOf(match: RouteMatch): string | undefined {
  const bucket = match.params.bucket
  return bucket === undefined || bucket === '' ? undefined : bucket
}
