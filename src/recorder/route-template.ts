/**
 * @module recorder/route-template
 * Path templates of route rules: `/v2/images/{image_id}/tags/{tag}`. A `{var}` matches exactly one
 * non-empty segment; a final `{var+}` matches one or more segments (greedy, S3 keys). Matching is on
 * the normalised path: `//` collapsed, trailing `/` dropped, literals compared case-sensitively,
 * variables percent-decoded segment by segment. Pure.
 */

export type TemplateSegment =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'var'; readonly name: string; readonly greedy: boolean }

export interface CompiledTemplate {
  readonly segments: readonly TemplateSegment[]
  readonly variables: readonly string[]
  /** Total characters of the literal segments (specificity tie-break). */
  readonly literalLength: number
  readonly greedy: boolean
}

const VAR = /^\{([A-Za-z_][A-Za-z0-9_]*)(\+)?\}$/

/** Splits a request path (query removed) into normalised segments. */
export function pathSegments(path: string): string[] {
  const q = path.indexOf('?')
  const bare = q < 0 ? path : path.slice(0, q)
  return bare.split('/').filter((s) => s !== '')
}

/** Compiles a template; throws an Error naming the problem. */
export function compileTemplate(template: string): CompiledTemplate {
  if (!template.startsWith('/')) throw new Error('must start with /')
  if (/[?#]/.test(template)) throw new Error('must not contain ? or #')
  const parts = template === '/' ? [] : template.replace(/\/$/, '').slice(1).split('/')
  const segments: TemplateSegment[] = []
  const variables: string[] = []
  let literalLength = 0
  parts.forEach((part, index) => {
    if (part === '') throw new Error('has an empty segment')
    const m = VAR.exec(part)
    if (m !== null) {
      const name = m[1] ?? ''
      const greedy = m[2] !== undefined
      if (greedy && index !== parts.length - 1)
        throw new Error(`{${name}+} must be the last segment`)
      if (variables.includes(name)) throw new Error(`repeats the variable ${name}`)
      variables.push(name)
      segments.push({ kind: 'var', name, greedy })
    } else {
      if (/[{}]/.test(part))
        throw new Error(`segment ${JSON.stringify(part)} mixes text and a variable`)
      literalLength += part.length
      segments.push({ kind: 'literal', text: part })
    }
  })
  const last = segments[segments.length - 1]
  return { segments, variables, literalLength, greedy: last?.kind === 'var' && last.greedy }
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/** Matches normalised segments against a template; the decoded variables, or undefined. */
export function matchTemplate(
  compiled: CompiledTemplate,
  segments: readonly string[],
): Record<string, string> | undefined {
  const count = compiled.segments.length
  if (compiled.greedy ? segments.length < count : segments.length !== count) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < count; i++) {
    const t = compiled.segments[i]
    const s = segments[i]
    if (t === undefined || s === undefined) return undefined
    if (t.kind === 'literal') {
      if (t.text !== s) return undefined
    } else if (t.greedy) {
      params[t.name] = segments.slice(i).map(decode).join('/')
    } else {
      params[t.name] = decode(s)
    }
  }
  return params
}

/** Fills a template (lookup and poll paths) with percent-encoded values; undefined if one is missing. */
export function expandTemplate(
  template: string,
  values: Readonly<Record<string, string>>,
): string | undefined {
  let missing = false
  const path = template.replace(
    /\{([A-Za-z_][A-Za-z0-9_]*)(\+)?\}/g,
    (_m, name: string, plus?: string) => {
      const value = values[name]
      if (value === undefined || value === '') {
        missing = true
        return ''
      }
      return plus === undefined
        ? encodeURIComponent(value)
        : value.split('/').map(encodeURIComponent).join('/')
    },
  )
  return missing ? undefined : path
}
