/**
 * @module query/search-query
 * The search grammar of `q=` (ListTraces, export, statistics; docs/search.md):
 *
 *   query   := or
 *   or      := and ("OR" and)*
 *   and     := unary (["AND"] unary)*          juxtaposition is AND
 *   unary   := "NOT" unary | primary
 *   primary := "(" or ")" | field ":" value | field ":" "(" value ("OR" value)* ")"
 *            | "code:" ("<" | "<=" | ">" | ">=") integer | text
 *   value   := word | word"*" (prefix) | "quoted string"
 *
 * Fields are the ListTraces names (`user`, not `user_name`) plus `source_ip` and `code`; a value is
 * matched exactly and case-sensitively, `abc*` by prefix. A bare word or quoted string is free text:
 * found, without case for ASCII letters, in the resource name, the resource id or the trace name
 * (a trailing * adds nothing). AND, OR and NOT are operators in capitals only. The query is
 * bounded (length, terms, depth), and every mistake is a 400 OCTS_ERR_QUERY saying where and what was expected. `searchFilter` moves
 * the exact terms every match needs into the store filter (its indexes then narrow the scan).
 */
import { ctsError } from '../errors/index.js'
import type { SearchField, SearchNode, TraceFilter } from '../store/index.js'

export const MAX_QUERY_LENGTH = 1000
export const MAX_QUERY_TERMS = 32
export const MAX_QUERY_DEPTH = 8

/** API field name → store field. */
export const SEARCH_FIELDS: Readonly<Record<string, SearchField>> = {
  service_type: 'service_type',
  resource_type: 'resource_type',
  resource_id: 'resource_id',
  resource_name: 'resource_name',
  trace_name: 'trace_name',
  trace_rating: 'trace_rating',
  tracker_name: 'tracker_name',
  user: 'user_name',
  access_key_id: 'access_key_id',
  enterprise_project_id: 'enterprise_project_id',
  source_ip: 'source_ip',
  code: 'code',
}

/** The exact store filters a search term may move into (same fields, same exact semantics). */
const FILTER_KEYS: Partial<Record<SearchField, keyof TraceFilter>> = {
  service_type: 'serviceType',
  resource_type: 'resourceType',
  resource_id: 'resourceId',
  resource_name: 'resourceName',
  trace_name: 'traceName',
  user_name: 'userName',
  access_key_id: 'accessKeyId',
  enterprise_project_id: 'enterpriseProjectId',
}

type Token =
  | { readonly kind: '('; readonly at: number }
  | { readonly kind: ')'; readonly at: number }
  | { readonly kind: 'word'; readonly text: string; readonly at: number }
  | { readonly kind: 'quoted'; readonly text: string; readonly at: number }

function fail(message: string): never {
  throw ctsError('OCTS_ERR_QUERY', `Query failed: q: ${message}`)
}

function tokenize(q: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < q.length) {
    const c = q[i] as string
    if (/\s/.test(c)) {
      i++
    } else if (c === '(' || c === ')') {
      tokens.push({ kind: c, at: i })
      i++
    } else if (c === '"') {
      const at = i
      let text = ''
      i++
      for (;;) {
        if (i >= q.length) fail(`the quote opened at ${at + 1} is not closed`)
        const d = q[i] as string
        if (d === '"') break
        if (d === '\\') {
          const e = q[i + 1]
          if (e !== '"' && e !== '\\') fail(`at ${i + 1}: only \\" and \\\\ are escapes in quotes`)
          text += e
          i += 2
        } else {
          text += d
          i++
        }
      }
      i++
      tokens.push({ kind: 'quoted', text, at })
    } else {
      const at = i
      // A field's value may follow its colon in quotes: `resource_name:"web 1"`.
      while (i < q.length && !/[\s()"]/.test(q[i] as string)) i++
      tokens.push({ kind: 'word', text: q.slice(at, i), at })
    }
  }
  return tokens
}

const KEYWORDS = new Set(['AND', 'OR', 'NOT'])

class Parser {
  readonly #tokens: Token[]
  #at = 0
  #terms = 0

  constructor(tokens: Token[]) {
    this.#tokens = tokens
  }

  parse(): SearchNode {
    if (this.#tokens.length === 0) fail('is empty')
    const node = this.#or(0)
    const rest = this.#tokens[this.#at]
    if (rest !== undefined) fail(`at ${rest.at + 1}: ${describe(rest)} was not expected`)
    return node
  }

  #peekWord(text: string): boolean {
    const t = this.#tokens[this.#at]
    return t?.kind === 'word' && t.text === text
  }

  #or(depth: number): SearchNode {
    const nodes = [this.#and(depth)]
    while (this.#peekWord('OR')) {
      this.#at++
      nodes.push(this.#and(depth))
    }
    return nodes.length === 1 ? (nodes[0] as SearchNode) : { kind: 'or', nodes }
  }

  #and(depth: number): SearchNode {
    const nodes = [this.#unary(depth)]
    for (;;) {
      const t = this.#tokens[this.#at]
      if (t === undefined || t.kind === ')' || this.#peekWord('OR')) break
      if (this.#peekWord('AND')) this.#at++
      nodes.push(this.#unary(depth))
    }
    return nodes.length === 1 ? (nodes[0] as SearchNode) : { kind: 'and', nodes }
  }

  #unary(depth: number): SearchNode {
    if (this.#peekWord('NOT')) {
      this.#at++
      return { kind: 'not', node: this.#unary(depth) }
    }
    return this.#primary(depth)
  }

  #primary(depth: number): SearchNode {
    const t = this.#tokens[this.#at]
    if (t === undefined) fail('ends where a term was expected')
    if (t.kind === ')') fail(`at ${t.at + 1}: ")" where a term was expected`)
    if (t.kind === '(') {
      if (depth >= MAX_QUERY_DEPTH) fail(`nests parentheses deeper than ${MAX_QUERY_DEPTH}`)
      this.#at++
      const node = this.#or(depth + 1)
      this.#close(t.at)
      return node
    }
    this.#at++
    if (t.kind === 'quoted') return this.#text(t.text, t.at)
    if (KEYWORDS.has(t.text)) fail(`at ${t.at + 1}: ${t.text} where a term was expected`)
    const colon = t.text.indexOf(':')
    const name = colon < 0 ? '' : t.text.slice(0, colon)
    // Free text is found anywhere: a trailing * (as in a prefix) adds nothing.
    if (colon < 0 || !/^[a-z_]+$/.test(name))
      return this.#text(t.text.endsWith('*') ? t.text.slice(0, -1) : t.text, t.at)
    const field = Object.hasOwn(SEARCH_FIELDS, name) ? SEARCH_FIELDS[name] : undefined
    if (field === undefined)
      fail(
        `at ${t.at + 1}: unknown field ${JSON.stringify(name)}; fields: ${Object.keys(SEARCH_FIELDS).join(', ')} (quote text that holds a colon)`,
      )
    const rest = t.text.slice(colon + 1)
    if (rest !== '') return this.#value(field, rest, false, t.at)
    const next = this.#tokens[this.#at]
    if (next?.kind === 'quoted') {
      this.#at++
      return this.#value(field, next.text, true, next.at)
    }
    if (next?.kind === '(') {
      this.#at++
      const nodes: SearchNode[] = []
      for (;;) {
        const v = this.#tokens[this.#at]
        if (v === undefined || v.kind === '(' || v.kind === ')')
          fail(`${v === undefined ? 'ends' : `at ${v.at + 1}`}: a value of ${name} was expected`)
        this.#at++
        if (v.kind === 'word' && KEYWORDS.has(v.text))
          fail(`at ${v.at + 1}: ${v.text} where a value of ${name} was expected`)
        nodes.push(this.#value(field, v.text, v.kind === 'quoted', v.at))
        if (!this.#peekWord('OR')) break
        this.#at++
      }
      this.#close(next.at)
      return nodes.length === 1 ? (nodes[0] as SearchNode) : { kind: 'or', nodes }
    }
    fail(
      `at ${t.at + colon + 2}: ${name}: needs a value (field:value, field:"a b", field:(a OR b))`,
    )
  }

  #close(openedAt: number): void {
    const t = this.#tokens[this.#at]
    if (t?.kind !== ')') fail(`the parenthesis opened at ${openedAt + 1} is not closed`)
    this.#at++
  }

  #count(at: number): void {
    if (++this.#terms > MAX_QUERY_TERMS) fail(`at ${at + 1}: more than ${MAX_QUERY_TERMS} terms`)
  }

  #text(value: string, at: number): SearchNode {
    this.#count(at)
    if (value === '') fail(`at ${at + 1}: empty text`)
    return { kind: 'text', value: asciiLower(value) }
  }

  #value(field: SearchField, raw: string, quoted: boolean, at: number): SearchNode {
    this.#count(at)
    if (field === 'code' && !quoted) {
      const m = /^(<=|>=|<|>)(\d{1,9})$/.exec(raw)
      if (m !== null)
        return {
          kind: 'compare',
          field: 'code',
          op: m[1] as '<' | '<=' | '>' | '>=',
          value: Number(m[2]),
        }
      if (/^[<>]/.test(raw))
        fail(
          `at ${at + 1}: code compares with an integer, e.g. code:>=400, got ${JSON.stringify(raw)}`,
        )
    }
    const prefix = !quoted && raw.endsWith('*')
    const value = prefix ? raw.slice(0, -1) : raw
    if (value.includes('*') && !quoted)
      fail(
        `at ${at + 1}: * ends a prefix (abc*) and may not appear elsewhere; quote it to match it`,
      )
    if (value === '') fail(`at ${at + 1}: a prefix needs at least one character before *`)
    if (value.length > 350) fail(`at ${at + 1}: a value is at most 350 characters`)
    return { kind: 'match', field, value, prefix }
  }
}

function describe(t: Token): string {
  return t.kind === 'word' || t.kind === 'quoted' ? JSON.stringify(t.text) : `"${t.kind}"`
}

/** ASCII letters to lower case, nothing else (what both engines do alike). */
export function asciiLower(value: string): string {
  return value.replace(/[A-Z]/g, (c) => c.toLowerCase())
}

/** Parses `q`. Throws OCTS_ERR_QUERY (400) saying what is wrong and where. */
export function parseSearch(q: string): SearchNode {
  if (q.length > MAX_QUERY_LENGTH) fail(`is ${q.length} characters, at most ${MAX_QUERY_LENGTH}`)
  return new Parser(tokenize(q)).parse()
}

/**
 * The filter with the search added: terms every match needs (`field:value` at the top, joined by
 * AND) become exact filters when the filter has none on that field; the rest is the filter's
 * search, bounded by `maxScan`.
 */
export function searchFilter(filter: TraceFilter, root: SearchNode, maxScan: number): TraceFilter {
  const out: Record<string, unknown> = { ...filter }
  const rest: SearchNode[] = []
  for (const node of root.kind === 'and' ? root.nodes : [root]) {
    const key = node.kind === 'match' && !node.prefix ? FILTER_KEYS[node.field] : undefined
    if (node.kind === 'match' && key !== undefined && out[key] === undefined) out[key] = node.value
    else rest.push(node)
  }
  if (rest.length > 0)
    out.search = {
      root: rest.length === 1 ? (rest[0] as SearchNode) : { kind: 'and', nodes: rest },
      maxScan,
    }
  return out as unknown as TraceFilter
}
