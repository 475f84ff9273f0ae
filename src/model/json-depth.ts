/**
 * @module model/json-depth
 * The nesting bound of client JSON. JSON.parse reads any depth, but JSON.stringify, the canonical
 * encoder and every other recursive walk overflow the stack on thousands of levels: every request
 * body, and every JSON text OpenCTS parses from a client (a trace's `user` string, a recorded
 * body), is checked here first, iteratively (the check itself cannot overflow).
 */

/** Max nesting of arrays and objects in a client JSON value; the outermost one is level 1. */
export const MAX_JSON_DEPTH = 64

/** Where a value nests too deep: the path of the offending member, CTS-style (`traces[0].request`). */
export interface DepthViolation {
  /** Path from the root of the checked value; '' for the value itself. */
  readonly path: string
  /** The depth reached at `path` (always MAX_JSON_DEPTH + 1 or more). */
  readonly depth: number
}

/** A path segment: an object key or an array index. */
type Segment = string | number

function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/**
 * A readable path: keys as `.key` (`["key"]` when not an identifier), indexes as `[i]`. A path
 * deeper than a few members is cut after the last key before the overflow (`request[0][0]…`
 * reads `request`), and at most 8 segments are shown.
 */
function formatPath(segments: readonly Segment[], prefix: string): string {
  // Trailing indexes only repeat what the message says (too deep): name the member holding them.
  let end = segments.length
  while (end > 0 && typeof segments[end - 1] === 'number') end--
  const shown = segments.slice(0, Math.min(end, 8))
  let text = prefix
  for (const segment of shown) {
    if (typeof segment === 'number') text += `[${segment}]`
    else if (IDENTIFIER.test(segment)) text += text === '' ? segment : `.${segment}`
    else text += `[${JSON.stringify(segment.length > 40 ? `${segment.slice(0, 40)}…` : segment)}]`
  }
  return shown.length < end ? `${text}…` : text
}

/**
 * Whether `value` nests at most `max` arrays/objects. Iterative (an explicit stack, so any depth
 * is safe to check) and lean: no path, no key arrays (a 12 MB body takes about a fifth of the time
 * JSON.stringify takes on it).
 */
function withinDepth(value: object, max: number): boolean {
  if (max < 1) return false
  const nodes: object[] = [value]
  const depths: number[] = [1]
  for (let node = nodes.pop(); node !== undefined; node = nodes.pop()) {
    const depth = depths.pop() ?? 1
    if (Array.isArray(node)) {
      const list = node as unknown[]
      for (let i = 0; i < list.length; i++) {
        const child = list[i]
        if (!isContainer(child)) continue
        if (depth >= max) return false
        nodes.push(child)
        depths.push(depth + 1)
      }
    } else {
      for (const key in node) {
        const child = (node as Record<string, unknown>)[key]
        if (!isContainer(child)) continue
        if (depth >= max) return false
        nodes.push(child)
        depths.push(depth + 1)
      }
    }
  }
  return true
}

/**
 * The first place where `value` nests deeper than `max` arrays/objects, or undefined. Iterative,
 * so any depth is safe to check: a lean pass first, and only for a value too deep a second one
 * that tracks the path (stopping at the first violation).
 */
export function findDeepNesting(
  value: unknown,
  max: number = MAX_JSON_DEPTH,
  prefix = '',
): DepthViolation | undefined {
  if (!isContainer(value) || withinDepth(value, max)) return undefined
  // Each frame: the container, its keys (objects only; arrays go by index), the next child.
  const path: Segment[] = []
  const stack: { node: object; keys: readonly string[] | null; size: number; next: number }[] = []
  const push = (node: object): void => {
    const keys = Array.isArray(node) ? null : Object.keys(node)
    stack.push({
      node,
      keys,
      size: keys === null ? (node as unknown[]).length : keys.length,
      next: 0,
    })
  }
  if (max < 1) return { path: formatPath(path, prefix), depth: 1 }
  push(value)
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]
    if (frame === undefined) break
    if (frame.next >= frame.size) {
      stack.pop()
      path.pop()
      continue
    }
    const index = frame.next++
    const key: Segment = frame.keys === null ? index : (frame.keys[index] as string)
    const child = (frame.node as Record<string | number, unknown>)[key]
    if (!isContainer(child)) continue
    path.push(key)
    if (stack.length + 1 > max) return { path: formatPath(path, prefix), depth: stack.length + 1 }
    push(child)
  }
  return undefined
}

/** The message of a violation: `<where>: JSON nested deeper than 64 levels …`. */
export function deepNestingMessage(violation: DepthViolation, what = 'the body'): string {
  const where = violation.path === '' ? what : violation.path
  return `${where}: JSON nested deeper than ${MAX_JSON_DEPTH} levels of arrays/objects (the limit of a request body)`
}
