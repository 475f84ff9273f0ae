/**
 * @module recorder/value-source
 * The value-source grammar of route maps (docs/recorder-maps.md "Value sources"): parsing, and
 * resolution against one captured exchange. Pure.
 *
 * ```
 * source      := alternative ( '|' alternative )*        first non-empty value wins
 * alternative := 'path.' VAR | 'req.' JSONPATH | 'resp.' JSONPATH | 'job.' JSONPATH
 *              | 'header.' NAME | 'lookup' | 'const:' TEXT | 'fmt:' TEXT
 * JSONPATH    := SEGMENT ( '.' SEGMENT )*                 a digit-only SEGMENT indexes an array;
 *                                                        'name[]' = each element (fan_out only)
 * ```
 * `const:` and `fmt:` swallow the rest of the source (they may contain `|`), so they come last.
 * `fmt:` expands `{var}` from the path variables (`fmt:{bucket}/{key}`).
 */

/** One parsed JSON path segment: a key (or array index) and whether it fans out (`[]`). */
export interface JsonSegment {
  readonly key: string
  readonly each: boolean
}

export type SourceAlternative =
  | { readonly kind: 'path'; readonly name: string }
  | { readonly kind: 'req' | 'resp' | 'job'; readonly segments: readonly JsonSegment[] }
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'lookup' }
  | { readonly kind: 'const' | 'fmt'; readonly text: string }

/** Everything a source can read. */
export interface SourceContext {
  readonly params: Readonly<Record<string, string>>
  readonly requestJson?: unknown
  readonly responseJson?: unknown
  readonly job?: unknown
  readonly headers: Readonly<Record<string, string>>
  readonly lookupName?: string | undefined
}

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const SEGMENT = /^([^.[\]]+)(\[\])?$/

function parseJsonPath(text: string): JsonSegment[] {
  if (text === '') throw new Error('empty JSON path')
  return text.split('.').map((part) => {
    const m = SEGMENT.exec(part)
    if (m === null) throw new Error(`bad JSON path segment ${JSON.stringify(part)}`)
    return { key: m[1] ?? '', each: m[2] !== undefined }
  })
}

function parseAlternative(text: string): SourceAlternative {
  if (text === 'lookup') return { kind: 'lookup' }
  const dot = text.indexOf('.')
  const head = dot < 0 ? text : text.slice(0, dot)
  const rest = dot < 0 ? '' : text.slice(dot + 1)
  switch (head) {
    case 'path':
      if (!VAR_NAME.test(rest)) throw new Error(`bad path variable ${JSON.stringify(rest)}`)
      return { kind: 'path', name: rest }
    case 'header':
      if (rest === '') throw new Error('empty header name')
      return { kind: 'header', name: rest.toLowerCase() }
    case 'req':
    case 'resp':
    case 'job':
      return { kind: head, segments: parseJsonPath(rest) }
    default:
      throw new Error(
        `unknown source ${JSON.stringify(text)}, want path., req., resp., job., header., lookup, const: or fmt:`,
      )
  }
}

/** Parses a value source; throws an Error whose message names the problem. */
export function parseSource(source: string): SourceAlternative[] {
  const out: SourceAlternative[] = []
  let rest = source.trim()
  if (rest === '') throw new Error('empty value source')
  while (rest !== '') {
    for (const kind of ['const', 'fmt'] as const) {
      if (rest.startsWith(`${kind}:`)) {
        out.push({ kind, text: rest.slice(kind.length + 1) })
        return out
      }
    }
    const bar = rest.indexOf('|')
    const part = (bar < 0 ? rest : rest.slice(0, bar)).trim()
    rest = bar < 0 ? '' : rest.slice(bar + 1).trim()
    if (part === '' || (bar >= 0 && rest === '')) throw new Error('empty alternative around |')
    out.push(parseAlternative(part))
  }
  return out
}

/** Path variables a source reads (`path.x` and `{x}` in `fmt:`), for validation. */
export function sourceVariables(alternatives: readonly SourceAlternative[]): string[] {
  const names: string[] = []
  for (const alt of alternatives) {
    if (alt.kind === 'path') names.push(alt.name)
    if (alt.kind === 'fmt')
      for (const m of alt.text.matchAll(/\{([^}]*)\}/g)) names.push(m[1] ?? '')
  }
  return names
}

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return undefined
}

function step(value: unknown, key: string): unknown {
  if (Array.isArray(value)) return /^\d+$/.test(key) ? (value as unknown[])[Number(key)] : undefined
  if (typeof value === 'object' && value !== null) return (value as Record<string, unknown>)[key]
  return undefined
}

/** Walks a JSON path; `[]` segments and a final array yield every element. */
function walk(root: unknown, segments: readonly JsonSegment[]): unknown[] {
  let current: unknown[] = [root]
  for (const seg of segments) {
    const next: unknown[] = []
    for (const value of current) {
      const child = step(value, seg.key)
      if (seg.each) {
        if (Array.isArray(child)) next.push(...(child as unknown[]))
      } else if (child !== undefined) next.push(child)
    }
    current = next
  }
  return current
}

function rootOf(kind: 'req' | 'resp' | 'job', ctx: SourceContext): unknown {
  if (kind === 'req') return ctx.requestJson
  return kind === 'resp' ? ctx.responseJson : ctx.job
}

function alternativeValues(alt: SourceAlternative, ctx: SourceContext): unknown[] {
  switch (alt.kind) {
    case 'path':
      return [ctx.params[alt.name]]
    case 'header':
      return [ctx.headers[alt.name]]
    case 'lookup':
      return [ctx.lookupName]
    case 'const':
      return [alt.text]
    case 'fmt':
      return [alt.text.replace(/\{([^}]*)\}/g, (_m, name: string) => ctx.params[name] ?? '')]
    case 'req':
    case 'resp':
    case 'job':
      return walk(rootOf(alt.kind, ctx), alt.segments)
  }
}

/** The first non-empty scalar value of a source (strings as is, numbers and booleans as text). */
export function resolveValue(source: string | undefined, ctx: SourceContext): string | undefined {
  if (source === undefined) return undefined
  for (const alt of parseSource(source)) {
    const values = alternativeValues(alt, ctx)
    const value = scalar(values.length === 1 ? values[0] : undefined)
    if (value !== undefined) return value
  }
  return undefined
}

/**
 * The list a fan-out source designates: the first alternative with at least one scalar. An array
 * yields its scalar elements, a scalar yields itself; objects are skipped.
 */
export function resolveList(source: string | undefined, ctx: SourceContext): string[] {
  if (source === undefined) return []
  for (const alt of parseSource(source)) {
    const values = alternativeValues(alt, ctx).flatMap((v) =>
      Array.isArray(v) ? (v as unknown[]) : [v],
    )
    const list = values.map(scalar).filter((v): v is string => v !== undefined)
    if (list.length > 0) return list
  }
  return []
}
