/**
 * @module model/notification-rule
 * The filter rule grammar of key-event notifications (spec §6.1, §18):
 * `<field> <op> <value>` with field ∈ api_version, code, trace_rating, trace_type, resource_id,
 * resource_name and op ∈ `=`, `!=`. Pure; used to validate configuration and, later, to match.
 */

export const RULE_FIELDS = [
  'api_version',
  'code',
  'trace_rating',
  'trace_type',
  'resource_id',
  'resource_name',
] as const
export type RuleField = (typeof RULE_FIELDS)[number]

export interface FilterRule {
  readonly field: RuleField
  readonly op: '=' | '!='
  readonly value: string
}

const RULE_PATTERN =
  /^\s*(api_version|code|trace_rating|trace_type|resource_id|resource_name)\s*(!=|=)\s*(.+?)\s*$/

const VALUE_RULES: Record<RuleField, { test: (value: string) => boolean; want: string }> = {
  api_version: {
    test: (v) => /^[A-Za-z0-9_.-]{1,64}$/.test(v),
    want: '1-64 letters, digits, _, - or .',
  },
  code: { test: (v) => v.length >= 1 && v.length <= 256, want: '1-256 characters' },
  trace_rating: {
    test: (v) => ['normal', 'warning', 'incident'].includes(v),
    want: 'normal, warning or incident',
  },
  trace_type: {
    test: (v) => ['ConsoleAction', 'ApiCall', 'SystemAction'].includes(v),
    want: 'ConsoleAction, ApiCall or SystemAction',
  },
  resource_id: { test: (v) => v.length >= 1 && v.length <= 350, want: '1-350 characters' },
  resource_name: { test: (v) => v.length >= 1 && v.length <= 256, want: '1-256 characters' },
}

/** Parses one rule; returns an error message (got/want) instead of throwing. */
export function parseFilterRule(text: string): FilterRule | { error: string } {
  const match = RULE_PATTERN.exec(text)
  if (match === null) {
    return {
      error: `rule ${JSON.stringify(text)} must read "<field> = <value>" or "<field> != <value>" with field one of ${RULE_FIELDS.join(', ')}`,
    }
  }
  const field = match[1] as RuleField
  const op = match[2] as '=' | '!='
  const value = match[3] ?? ''
  const rule = VALUE_RULES[field]
  if (!rule.test(value))
    return { error: `rule ${JSON.stringify(text)}: ${field} value must be ${rule.want}` }
  return { field, op, value }
}
