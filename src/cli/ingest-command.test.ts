/**
 * Tests of `opencts ingest` argument parsing and of locating a rejected trace in the input.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { UsageError } from './cli-errors.js'
import { locateBatchError, parseIngestArgs, type IngestPlan } from './ingest-command.js'

describe('parseIngestArgs', () => {
  it('takes one input, the project and the options', () => {
    const plan = parseIngestArgs(
      ['traces.jsonl', '--project', 'p1', '--batch-size', '250', '-q', '--shift-to-now'],
      {},
    ) as IngestPlan
    assert.deepEqual(
      [plan.source, plan.client.projectId, plan.batchSize, plan.quiet, plan.shiftToNow],
      ['traces.jsonl', 'p1', 250, true, true],
    )
    const defaults = parseIngestArgs(['-'], { OPENCTS_PROJECT_ID: 'p2' }) as IngestPlan
    assert.deepEqual(
      [defaults.source, defaults.client.projectId, defaults.batchSize, defaults.quiet],
      ['-', 'p2', 1000, false],
    )
  })

  it('rejects a missing or extra input, bad batch sizes and unknown flags', () => {
    const env = { OPENCTS_PROJECT_ID: 'p1' }
    for (const args of [
      [],
      ['a', 'b'],
      ['a', '--batch-size', '1001'],
      ['a', '--batch-size', '0'],
      ['a', '--nope'],
    ])
      assert.throws(() => parseIngestArgs(args, env), UsageError, args.join(' '))
    assert.throws(() => parseIngestArgs(['a'], {}), /project is required/)
    assert.throws(() => parseIngestArgs(['a', '-p', 'bad/id'], {}), /project ID must be/)
  })
})

describe('locateBatchError', () => {
  const batch = { body: '', count: 3, firstIndex: 1000, lines: [1001, 1002, 1003] }

  it('names the input trace and line of traces[i]', () => {
    assert.equal(
      locateBatchError(batch, 'traces[2].time: time is required'),
      'at input trace 1003 (line 1003)',
    )
    assert.equal(
      locateBatchError({ ...batch, lines: [null, null, null] }, 'traces[0]: bad'),
      'at input trace 1001',
    )
  })

  it('names the batch when the error is about the whole batch', () => {
    assert.equal(
      locateBatchError(batch, 'The message body is invalid.'),
      'in the batch of input traces 1001-1003',
    )
  })
})
