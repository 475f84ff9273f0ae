/**
 * @module cli/read-traces
 * Reads the traces of `opencts ingest` from a byte stream, in any of three shapes:
 * - JSON lines: one trace object per line (blank lines skipped), read as it streams;
 * - a JSON array of traces;
 * - a `{"traces": [...]}` object (the body of the ingest API).
 * The shape is decided by the first non-blank line: if it is a complete JSON value, the input is
 * JSON lines (a line holding an array or a `{"traces": [...]}` object contributes each of its
 * traces); otherwise the whole input is parsed as one JSON document. A UTF-8 BOM is ignored.
 * Errors are CliFailure naming the line.
 */
import { StringDecoder } from 'node:string_decoder'
import { CliFailure } from './cli-errors.js'

export interface InputTrace {
  /** The trace as parsed (validated by the server, not here). */
  readonly value: unknown
  /** 1-based line of the input it came from; null inside a multi-line JSON document. */
  readonly line: number | null
}

/** Splits a byte or text stream into lines (without `\n` or `\r\n`). */
export async function* splitLines(
  chunks: AsyncIterable<Buffer | string>,
): AsyncGenerator<string, void, undefined> {
  const decoder = new StringDecoder('utf8')
  let rest = ''
  for await (const chunk of chunks) {
    rest += typeof chunk === 'string' ? chunk : decoder.write(chunk)
    let end = rest.indexOf('\n')
    while (end !== -1) {
      yield rest.slice(0, end).replace(/\r$/, '')
      rest = rest.slice(end + 1)
      end = rest.indexOf('\n')
    }
  }
  rest += decoder.end()
  if (rest !== '') yield rest.replace(/\r$/, '')
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}

function* expand(value: unknown, line: number | null): Generator<InputTrace> {
  const where = line === null ? 'the input' : `line ${line}`
  const list =
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Array.isArray((value as { traces?: unknown }).traces)
      ? (value as { traces: unknown[] }).traces
      : value
  if (Array.isArray(list)) {
    for (const [index, item] of list.entries()) {
      if (typeof item !== 'object' || item === null || Array.isArray(item))
        throw new CliFailure(
          `${where}: trace ${index + 1} must be an object, got ${describe(item)}`,
        )
      yield { value: item, line }
    }
    return
  }
  if (typeof value !== 'object' || value === null)
    throw new CliFailure(`${where}: expected a trace object, got ${describe(value)}`)
  yield { value, line }
}

function parse(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown }
  } catch (error) {
    return { ok: false, message: (error as Error).message }
  }
}

/** The traces of the input, in order. */
export async function* readTraces(
  chunks: AsyncIterable<Buffer | string>,
): AsyncGenerator<InputTrace, void, undefined> {
  const lines = splitLines(chunks)
  let lineNo = 0
  const head: string[] = []
  let mode: 'unknown' | 'lines' | 'document' = 'unknown'
  for await (const raw of lines) {
    lineNo++
    const text = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw
    if (mode === 'document') {
      head.push(text)
      continue
    }
    if (text.trim() === '') {
      if (mode === 'unknown') head.push(text)
      continue
    }
    const parsed = parse(text)
    if (mode === 'unknown') {
      if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null) {
        mode = 'document'
        head.push(text)
        continue
      }
      mode = 'lines'
    }
    if (!parsed.ok) throw new CliFailure(`line ${lineNo} is not valid JSON: ${parsed.message}`)
    yield* expand(parsed.value, lineNo)
  }
  if (mode !== 'document') return
  const whole = parse(head.join('\n'))
  if (!whole.ok)
    throw new CliFailure(`the input is neither JSON lines nor a JSON document: ${whole.message}`)
  yield* expand(whole.value, null)
}
