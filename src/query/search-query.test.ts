/** The `q=` grammar: what each form parses to, the exact terms moved into the filter, and the 400s. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isOpenCtsError } from '../errors/index.js'
import type { TraceFilter } from '../store/index.js'
import { MAX_QUERY_TERMS, parseSearch, searchFilter } from './search-query.js'

const m = (field: string, value: string, prefix = false) => ({
  kind: 'match',
  field,
  value,
  prefix,
})

describe('parseSearch', () => {
  it('parses every form of the grammar', () => {
    const cases: [string, unknown][] = [
      ['service_type:IMS', m('service_type', 'IMS')],
      ['user:bob', m('user_name', 'bob')],
      ['resource_name:web*', m('resource_name', 'web', true)],
      ['resource_name:"web *1"', m('resource_name', 'web *1')],
      ['code:(403 OR 404)', { kind: 'or', nodes: [m('code', '403'), m('code', '404')] }],
      ['code:>=400', { kind: 'compare', field: 'code', op: '>=', value: 400 }],
      ['code:<300', { kind: 'compare', field: 'code', op: '<', value: 300 }],
      ['Web', { kind: 'text', value: 'web' }],
      ['"Prod-3 DB"', { kind: 'text', value: 'prod-3 db' }],
      ['"a:b"', { kind: 'text', value: 'a:b' }],
      [
        'x AND y',
        {
          kind: 'and',
          nodes: [
            { kind: 'text', value: 'x' },
            { kind: 'text', value: 'y' },
          ],
        },
      ],
      ['web*', { kind: 'text', value: 'web' }],
      [
        'x y',
        {
          kind: 'and',
          nodes: [
            { kind: 'text', value: 'x' },
            { kind: 'text', value: 'y' },
          ],
        },
      ],
      [
        'NOT user:bob OR code:500 trace_name:delete*',
        {
          kind: 'or',
          nodes: [
            { kind: 'not', node: m('user_name', 'bob') },
            {
              kind: 'and',
              nodes: [m('code', '500'), m('trace_name', 'delete', true)],
            },
          ],
        },
      ],
      [
        'NOT (a OR b)',
        {
          kind: 'not',
          node: {
            kind: 'or',
            nodes: [
              { kind: 'text', value: 'a' },
              { kind: 'text', value: 'b' },
            ],
          },
        },
      ],
      ['and', { kind: 'text', value: 'and' }],
    ]
    for (const [q, want] of cases) assert.deepEqual(parseSearch(q), want, q)
  })

  it('refuses what it cannot read, saying where and why', () => {
    const cases: [string, RegExp][] = [
      ['', /is empty/],
      ['   ', /is empty/],
      ['colour:red', /unknown field "colour"/],
      ['user:', /needs a value/],
      ['(user:bob', /parenthesis opened at 1 is not closed/],
      ['user:bob)', /"\)" was not expected/],
      ['"open', /quote opened at 1 is not closed/],
      ['code:>=abc', /code compares with an integer/],
      ['name:a*b', /unknown field/],
      ['trace_name:a*b', /\* ends a prefix/],
      ['trace_name:*', /at least one character before \*/],
      ['OR user:bob', /OR where a term was expected/],
      ['user:bob AND', /ends where a term was expected/],
      ['NOT', /ends where a term was expected/],
      ['code:(403 OR)', /a value of code was expected/],
      ['"a\\b"', /only \\" and \\\\ are escapes/],
      ['((((((((((a))))))))))', /nests parentheses deeper than 8/],
      [
        Array.from({ length: MAX_QUERY_TERMS + 1 }, (_, i) => `t${i}`).join(' '),
        /more than 32 terms/,
      ],
      ['x'.repeat(1001), /at most 1000/],
    ]
    for (const [q, message] of cases)
      assert.throws(
        () => parseSearch(q),
        (e: unknown) => isOpenCtsError(e) && e.code === 'OCTS_ERR_QUERY' && message.test(e.message),
        q,
      )
  })
})

describe('searchFilter', () => {
  const base: TraceFilter = { projectId: 'p1', from: 0, to: 10, category: 'system' }

  it('moves the exact terms every match needs into the filter and keeps the rest', () => {
    const f = searchFilter(base, parseSearch('service_type:IMS user:bob code:>=400 web*'), 500)
    assert.equal(f.serviceType, 'IMS')
    assert.equal(f.userName, 'bob')
    assert.deepEqual(f.search, {
      root: {
        kind: 'and',
        nodes: [
          { kind: 'compare', field: 'code', op: '>=', value: 400 },
          { kind: 'text', value: 'web' },
        ],
      },
      maxScan: 500,
    })
  })

  it('leaves a term in the search when the filter already says something of its field', () => {
    const f = searchFilter({ ...base, serviceType: 'ECS' }, parseSearch('service_type:IMS'), 500)
    assert.equal(f.serviceType, 'ECS')
    assert.deepEqual(f.search?.root, m('service_type', 'IMS'))
  })

  it('moves nothing out of an OR, a NOT or a prefix', () => {
    for (const q of ['user:bob OR user:carol', 'NOT user:bob', 'user:bo*']) {
      const f = searchFilter(base, parseSearch(q), 500)
      assert.equal(f.userName, undefined, q)
      assert.deepEqual(f.search?.root, parseSearch(q), q)
    }
    assert.equal(searchFilter(base, parseSearch('user:bob'), 500).search, undefined)
  })
})
