/**
 * Tests of the resource history text: every part of the summary, the events table, a window with
 * no trace, an incomplete summary, and control characters neutralised on summary lines.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ResourceHistory } from '../query/resource-history.js'
import { formatResourceHistory } from './format-resource-history.js'

const T = Date.UTC(2026, 0, 2, 3, 4, 5)

function history(patch: Partial<ResourceHistory['summary']> = {}): ResourceHistory {
  return {
    resource: {
      resource_id: 'img-7',
      resource_name: 'web-7',
      service_type: 'IMS',
      resource_type: 'image',
    },
    summary: {
      total: 2,
      complete: true,
      first_time: T,
      last_time: T + 60_000,
      created: {
        trace_id: 't1',
        time: T,
        trace_name: 'createImage',
        user: 'alice',
        source_ip: '192.0.2.1',
      },
      last_changed: null,
      deleted: {
        trace_id: 't2',
        time: T + 60_000,
        trace_name: 'deleteImage',
        user: 'bob\u001b[2J',
      },
      counts: { create: 1, update: 0, share: 0, delete: 1, read: 0, other: 0, failed: 0 },
      operators: [
        { user: 'alice', count: 1, kinds: ['create'], last_time: T },
        { user: 'bob', count: 1, kinds: ['delete'], last_time: T + 60_000 },
      ],
      ...patch,
    },
    events: [
      {
        trace_id: 't2',
        time: T + 60_000,
        trace_name: 'deleteImage',
        kind: 'delete',
        trace_rating: 'normal',
        code: '204',
        user: 'bob',
        service_type: 'IMS',
        resource_type: 'image',
      },
    ],
    meta_data: { count: 1, marker: 't2' },
  }
}

describe('formatResourceHistory', () => {
  it('prints the resource, the summary, the operators and the events', () => {
    const text = formatResourceHistory(history())
    assert.equal(
      text,
      [
        'Resource img-7 (web-7), IMS image',
        'Traces: 2, 2026-01-02T03:04:05Z to 2026-01-02T03:05:05Z',
        'Created:      2026-01-02T03:04:05Z  createImage  by alice  from 192.0.2.1  (trace t1)',
        'Last changed: -',
        'Deleted:      2026-01-02T03:05:05Z  deleteImage  by bob?[2J  (trace t2)',
        'Kinds: create 1, update 0, share 0, delete 1, read 0, other 0; failed 0',
        '',
        'OPERATOR  TRACES  WHAT    LAST ACTED',
        'alice     1       create  2026-01-02T03:04:05Z',
        'bob       1       delete  2026-01-02T03:05:05Z',
        '',
        'TIME                  KIND    TRACE NAME   SERVICE    RATING  CODE  USER  SOURCE IP  TRACE ID',
        '2026-01-02T03:05:05Z  delete  deleteImage  IMS image  normal  204   bob              t2',
        '',
      ].join('\n'),
    )
  })

  it('says when the summary covers only the newest traces', () => {
    assert.match(
      formatResourceHistory(history({ complete: false })),
      /^Traces: 2, .* \(the newest only: narrow --from\/--to for older ones\)$/m,
    )
  })

  it('says when no trace names the resource', () => {
    assert.equal(
      formatResourceHistory(history({ total: 0, operators: [] })),
      'No trace names this resource in the window.\n',
    )
  })
})
