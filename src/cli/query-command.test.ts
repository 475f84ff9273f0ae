/**
 * Tests of `opencts query` argument parsing and page following (with a fake client).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ApiTrace } from '../model/index.js'
import type { ListTracesResponse } from '../query/index.js'
import { UsageError } from './cli-errors.js'
import { fetchTraces, parseQueryArgs, type QueryPlan } from './query-command.js'

const NOW = Date.UTC(2026, 4, 10, 12, 0, 0)
const P1 = '0123456789abcdef0123456789abcdef'
const P2 = 'fedcba9876543210fedcba9876543210'
/** A token, so that no credentials file is needed. */
const ENV = { OPENCTS_PROJECT_ID: P1, OPENCTS_TOKEN: 'octs1_t' }
/** A current folder without .opencts/credentials. */
const CWD = '/nonexistent'

function plan(args: string[], env: Record<string, string> = ENV): QueryPlan {
  const result = parseQueryArgs(args, env, NOW, CWD)
  assert.notEqual(result, 'help')
  return result as QueryPlan
}

describe('parseQueryArgs', () => {
  it('maps every filter flag to its ListTraces parameter', () => {
    const { params } = plan([
      ...['--trace-type', 'system', '--tracker-name', 'system', '--service-type', 'IMS'],
      ...['--resource-type', 'image', '--resource-id', 'img-1', '--resource-name', 'web'],
      ...['--trace-name', 'deleteImage', '--trace-rating', 'warning', '--user', 'bob'],
      ...['--trace-id', 'e001ccb8-bc09-11e6-b2cc-2640a43cc6e8', '--access-key-id', 'AK1'],
      ...['--enterprise-project-id', 'ep1', '--next', 'e001ccb8-bc09-11e6-b2cc-2640a43cc6e9'],
      ...['--q', 'code:>=400 NOT user:admin'],
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
      trace_id: 'e001ccb8-bc09-11e6-b2cc-2640a43cc6e8',
      access_key_id: 'AK1',
      enterprise_project_id: 'ep1',
      q: 'code:>=400 NOT user:admin',
      next: 'e001ccb8-bc09-11e6-b2cc-2640a43cc6e9',
    })
  })

  it('turns --from/--to into epoch milliseconds', () => {
    const { params } = plan(['--from', '2h', '--to', '2026-05-10T11:30:00Z'])
    assert.equal(params.from, String(NOW - 7_200_000))
    assert.equal(params.to, String(Date.UTC(2026, 4, 10, 11, 30)))
  })

  it('reads one page by default and follows pages with --all or --max', () => {
    const one = plan([])
    assert.equal(one.follow, false)
    assert.equal(one.params.limit, undefined)
    assert.equal(one.format, 'table')
    const all = plan(['--all'])
    assert.deepEqual([all.follow, all.params.limit, all.max], [true, '200', undefined])
    const max = plan(['--max', '30', '--format', 'csv'])
    assert.deepEqual([max.follow, max.params.limit, max.max, max.format], [true, '30', 30, 'csv'])
    assert.equal(plan(['--all', '--limit', '5']).params.limit, '5')
  })

  it('takes the project and endpoint from flags over the environment', () => {
    const fromEnv = plan([], { ...ENV, OPENCTS_ENDPOINT: 'http://h:1' })
    assert.equal(fromEnv.client.projectId, P1)
    assert.equal(fromEnv.client.endpoint.href, 'http://h:1/')
    const fromFlags = plan(['-p', P2, '--endpoint', 'https://cts.example/'])
    assert.deepEqual(
      [fromFlags.client.projectId, fromFlags.client.endpoint.href],
      [P2, 'https://cts.example/'],
    )
    assert.equal(plan([], ENV).client.endpoint.href, 'http://127.0.0.1:8088/')
  })

  it('answers help', () => {
    assert.equal(parseQueryArgs(['--help'], {}, NOW, CWD), 'help')
  })

  it('rejects unknown flags, positionals and bad values with UsageError', () => {
    const cases: [string[], RegExp][] = [
      [['--bogus'], /Unknown option '--bogus'/],
      [['extra'], /positional/i],
      [['--format', 'xml'], /--format must be one of table, json, csv/],
      [['--limit', '0'], /--limit must be an integer from 1 to 200/],
      [['--limit', '201'], /--limit must be an integer from 1 to 200/],
      [['--max', 'ten'], /--max must be an integer/],
      [['--from', 'yesterday'], /--from must be/],
      [['--endpoint', 'ftp://x'], /--endpoint must be an http\(s\) URL/],
    ]
    for (const [args, message] of cases) {
      assert.throws(
        () => parseQueryArgs(args, ENV, NOW, CWD),
        (error: unknown) => error instanceof UsageError && message.test(error.message),
        args.join(' '),
      )
    }
    assert.throws(
      () => parseQueryArgs([], {}, NOW, CWD),
      /give --project ID, set OPENCTS_PROJECT_ID or put project_id in the credentials profile/,
    )
    assert.throws(() => parseQueryArgs(['-p', 'p1'], ENV, NOW, CWD), /32 lowercase hex/)
    assert.throws(() => parseQueryArgs([], { OPENCTS_PROJECT_ID: P1 }, NOW, CWD), /no credentials/)
  })
})

function trace(id: number): ApiTrace {
  return {
    trace_id: `id-${id}`,
    trace_name: 'createImage',
    trace_rating: 'normal',
    trace_type: 'ApiCall',
    service_type: 'IMS',
    resource_type: 'image',
    time: 1000 - id,
    record_time: 1000,
  }
}

/** A fake API over `total` traces, paging like the server. */
function fakeClient(total: number): {
  calls: Record<string, string>[]
  listTraces: (p: string, q: Readonly<Record<string, string>>) => Promise<ListTracesResponse>
} {
  const all = Array.from({ length: total }, (_, i) => trace(i))
  const calls: Record<string, string>[] = []
  return {
    calls,
    listTraces: async (_project, query) => {
      calls.push({ ...query })
      const start =
        query.next === undefined ? 0 : all.findIndex((t) => t.trace_id === query.next) + 1
      const limit = Number(query.limit ?? '10')
      const traces = all.slice(start, start + limit)
      const more = start + limit < all.length
      return {
        traces,
        meta_data: {
          count: traces.length,
          marker: more ? (traces.at(-1)?.trace_id ?? null) : null,
        },
      }
    },
  }
}

describe('fetchTraces', () => {
  it('reads one page and returns its marker when not following', async () => {
    const client = fakeClient(25)
    const result = await fetchTraces(client, plan([]))
    assert.equal(result.traces.length, 10)
    assert.equal(result.marker, 'id-9')
    assert.equal(client.calls.length, 1)
  })

  it('follows markers until null with --all', async () => {
    const client = fakeClient(25)
    const result = await fetchTraces(client, plan(['--all', '--limit', '10']))
    assert.deepEqual(
      result.traces.map((t) => t.trace_id),
      Array.from({ length: 25 }, (_, i) => `id-${i}`),
    )
    assert.equal(result.marker, null)
    assert.deepEqual(
      client.calls.map((c) => c.next),
      [undefined, 'id-9', 'id-19'],
    )
  })

  it('stops at --max, cutting inside a page, and continues after the last printed trace', async () => {
    const client = fakeClient(100)
    const result = await fetchTraces(client, plan(['--max', '15', '--limit', '10']))
    assert.equal(result.traces.length, 15)
    assert.equal(result.marker, 'id-14')
  })

  it('returns null as the marker when --max equals what is left', async () => {
    const result = await fetchTraces(fakeClient(15), plan(['--max', '15', '--limit', '10']))
    assert.deepEqual([result.traces.length, result.marker], [15, null])
  })

  it('stops when a server repeats a marker', async () => {
    const stuck = {
      listTraces: async (): Promise<ListTracesResponse> => ({
        traces: [trace(1)],
        meta_data: { count: 1, marker: 'id-1' },
      }),
    }
    await assert.rejects(fetchTraces(stuck, plan(['--all'])), /marker id-1 twice/)
  })
})
