/**
 * Tests of `opencts stats` argument parsing: filter flags and search, grouping, intervals in
 * friendly units, --top bounds, --from/--to, and usage errors.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { UsageError } from './cli-errors.js'
import { parseInterval, parseStatsArgs, type StatsPlan } from './stats-command.js'

const NOW = Date.UTC(2026, 4, 10, 12, 0, 0)
const P1 = '0123456789abcdef0123456789abcdef'
const ENV = { OPENCTS_PROJECT_ID: P1, OPENCTS_TOKEN: 'octs1_t' }
/** A current folder without .opencts/credentials. */
const CWD = '/nonexistent'

function plan(args: string[]): StatsPlan {
  const result = parseStatsArgs(args, ENV, NOW, CWD)
  assert.notEqual(result, 'help')
  return result as StatsPlan
}

describe('parseStatsArgs', () => {
  it('maps filters, search, grouping and window to the statistics parameters', () => {
    const { params, json } = plan([
      ...['--trace-type', 'system', '--tracker-name', 'system', '--service-type', 'IMS'],
      ...['--resource-type', 'image', '--resource-id', 'img-1', '--resource-name', 'web'],
      ...['--trace-name', 'deleteImage', '--trace-rating', 'warning', '--user', 'bob'],
      ...['--access-key-id', 'AK1', '--enterprise-project-id', 'ep1'],
      ...['--q', 'code:>=400 AND NOT user:alice', '--group-by', 'user, code'],
      ...[
        '--distinct',
        'source_ip',
        '--interval',
        '5m',
        '--top',
        '25',
        '--from',
        '2h',
        '--to',
        'now',
      ],
    ])
    assert.deepEqual(params, {
      trace_type: 'system',
      tracker_name: 'system',
      service_type: 'IMS',
      resource_type: 'image',
      resource_id: 'img-1',
      resource_name: 'web',
      trace_name: 'deleteImage',
      trace_rating: 'warning',
      user: 'bob',
      access_key_id: 'AK1',
      enterprise_project_id: 'ep1',
      q: 'code:>=400 AND NOT user:alice',
      group_by: 'user,code',
      distinct: 'source_ip',
      interval: '300000',
      top: '25',
      from: String(NOW - 7_200_000),
      to: String(NOW),
    })
    assert.equal(json, false)
  })

  it('sends no parameter it was not given, and takes -g and --json', () => {
    assert.deepEqual(plan([]).params, {})
    const short = plan(['-g', 'service_type', '--json'])
    assert.deepEqual([short.params, short.json], [{ group_by: 'service_type' }, true])
  })

  it('answers help, even with other arguments', () => {
    assert.equal(parseStatsArgs(['--help'], {}, NOW, CWD), 'help')
    assert.equal(parseStatsArgs(['--top', '0', '-h'], {}, NOW, CWD), 'help')
  })

  it('rejects unknown flags, positionals and bad values with UsageError', () => {
    const cases: [string[], RegExp][] = [
      [['--bogus'], /Unknown option '--bogus'/],
      [['--trace-id', 'x'], /Unknown option '--trace-id'/],
      [['extra'], /positional/i],
      [['--top', '0'], /--top must be an integer from 1 to 1000/],
      [['--top', '1001'], /--top must be an integer from 1 to 1000/],
      [['--interval', 'hourly'], /--interval must be a count with a unit/],
      [['--interval=-5m'], /--interval must be/],
      [['--from', 'yesterday'], /--from must be/],
      [['--secret-key', 'x'], /there is no --secret-key flag/],
    ]
    for (const [args, message] of cases)
      assert.throws(
        () => parseStatsArgs(args, ENV, NOW, CWD),
        (error: unknown) => error instanceof UsageError && message.test(error.message),
        args.join(' '),
      )
    assert.throws(() => parseStatsArgs([], {}, NOW, CWD), /the project is required/)
  })
})

describe('parseInterval', () => {
  it('takes a count with a unit or bare milliseconds', () => {
    assert.deepEqual(
      ['1500', '1500ms', '30s', '5m', '1h', '1d'].map(parseInterval),
      [1500, 1500, 30_000, 300_000, 3_600_000, 86_400_000],
    )
  })
})
