/**
 * @module auth/policies
 * CTS permissions (spec/cts-api.md §14): the fine-grained actions every API route enforces, the
 * built-in policies users hold, and their evaluation. Pure.
 *
 * A policy is an IAM-style document (`{"Version":"1.1","Statement":[{"Effect":"Allow","Action":[...]}]}`);
 * action patterns match case-insensitively with `*` standing for any characters within the pattern.
 * Evaluation: an explicit Deny in any held policy wins; otherwise an Allow is needed; otherwise deny.
 */

/** Every action an OpenCTS API route enforces. */
export const CTS_ACTIONS = [
  'cts:trace:list',
  'cts:trace:listTraceUser',
  'cts:trace:listResource',
  'cts:trace:report',
  'cts:tracker:create',
  'cts:tracker:update',
  'cts:tracker:delete',
  'cts:tracker:list',
  'cts:notification:create',
  'cts:notification:update',
  'cts:notification:delete',
  'cts:notification:list',
  'cts:notification:listOperation',
  'cts:quota:get',
  'cts:tag:create',
  'cts:tag:delete',
  'cts:tag:list',
  'cts:digestKey:list',
  'cts:log:get',
  'cts:alarm:create',
  'cts:alarm:update',
  'cts:alarm:delete',
  'cts:alarm:list',
  'cts:alarm:get',
] as const

export type CtsAction = (typeof CTS_ACTIONS)[number]

export interface PolicyStatement {
  readonly Effect: 'Allow' | 'Deny'
  readonly Action: readonly string[]
}

export interface PolicyDocument {
  readonly Version: '1.1'
  readonly Statement: readonly PolicyStatement[]
}

export interface BuiltInPolicy {
  readonly name: string
  readonly type: 'system policy' | 'system role'
  readonly description: string
  readonly document: PolicyDocument
}

function allow(...actions: string[]): PolicyDocument {
  return { Version: '1.1', Statement: [{ Effect: 'Allow', Action: actions }] }
}

/**
 * The built-in policies. `cts:trace:report` (ingest) is deliberately outside `CTS FullAccess`: a
 * person who manages trackers must not be able to write audit records in someone else's name.
 */
export const BUILT_IN_POLICIES: readonly BuiltInPolicy[] = [
  {
    name: 'CTS FullAccess',
    type: 'system policy',
    description: 'All CTS operations except reporting traces.',
    document: allow(
      'cts:trace:list*',
      'cts:tracker:*',
      'cts:notification:*',
      'cts:quota:*',
      'cts:tag:*',
      'cts:digestKey:list',
      'cts:log:get',
      'cts:alarm:*',
    ),
  },
  {
    name: 'CTS ReadOnlyAccess',
    type: 'system policy',
    description: 'Query traces, quotas, trackers and notifications.',
    document: allow('cts:*:get*', 'cts:*:list*'),
  },
  {
    name: 'CTS Administrator',
    type: 'system role',
    description: 'All CTS operations, reporting traces included.',
    document: allow('cts:*:*'),
  },
  {
    name: 'CTS TraceReporter',
    type: 'system policy',
    description: 'Report traces (cts:trace:report) only: for services and recorders.',
    document: allow('cts:trace:report'),
  },
]

export function findPolicy(name: string): BuiltInPolicy | undefined {
  return BUILT_IN_POLICIES.find((p) => p.name === name)
}

const patternCache = new Map<string, RegExp>()

function patternOf(pattern: string): RegExp {
  let re = patternCache.get(pattern)
  if (re === undefined) {
    const body = pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')
    re = new RegExp(`^${body}$`, 'i')
    patternCache.set(pattern, re)
  }
  return re
}

export function actionMatches(pattern: string, action: string): boolean {
  return patternOf(pattern).test(action)
}

/** True when the documents together allow `action` (explicit Deny wins). */
export function isAllowed(documents: readonly PolicyDocument[], action: string): boolean {
  let allowed = false
  for (const doc of documents) {
    for (const statement of doc.Statement) {
      if (!statement.Action.some((p) => actionMatches(p, action))) continue
      if (statement.Effect === 'Deny') return false
      allowed = true
    }
  }
  return allowed
}
