/**
 * Tests of `opencts ingest` argument parsing and of locating a rejected trace in the input.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { UsageError } from './cli-errors.js'
import { locateBatchError, parseIngestArgs, type IngestPlan } from './ingest-command.js'

const P1 = '0123456789abcdef0123456789abcdef'
const P2 = 'fedcba9876543210fedcba9876543210'
/** A current folder without .opencts/credentials. */
const CWD = '/nonexistent'

describe('parseIngestArgs', () => {
  it('takes one input, the project, the credential and the options', () => {
    const plan = parseIngestArgs(
      ['traces.jsonl', '--project', P1, '--batch-size', '250', '-q', '--shift-to-now'],
      { OPENCTS_TOKEN: 'octs1_t' },
      CWD,
    ) as IngestPlan
    assert.deepEqual(
      [plan.source, plan.client.projectId, plan.batchSize, plan.quiet, plan.shiftToNow],
      ['traces.jsonl', P1, 250, true, true],
    )
    assert.equal(plan.client.credential.kind, 'token')
    const defaults = parseIngestArgs(
      ['-'],
      { OPENCTS_PROJECT_ID: P2, OPENCTS_ACCESS_KEY: 'AK', OPENCTS_SECRET_KEY: 'SK' },
      CWD,
    ) as IngestPlan
    assert.deepEqual(
      [defaults.source, defaults.client.projectId, defaults.batchSize, defaults.quiet],
      ['-', P2, 1000, false],
    )
    assert.equal(defaults.client.credential.kind, 'aksk')
  })

  it('rejects a missing or extra input, bad batch sizes and unknown flags', () => {
    const env = { OPENCTS_PROJECT_ID: P1, OPENCTS_TOKEN: 'octs1_t' }
    for (const args of [
      [],
      ['a', 'b'],
      ['a', '--batch-size', '1001'],
      ['a', '--batch-size', '0'],
      ['a', '--nope'],
    ])
      assert.throws(() => parseIngestArgs(args, env, CWD), UsageError, args.join(' '))
    assert.throws(() => parseIngestArgs(['a'], {}, CWD), /project is required/)
    assert.throws(() => parseIngestArgs(['a', '-p', 'p1'], env, CWD), /project ID must be 32/)
    assert.throws(() => parseIngestArgs(['a', '-p', P1], {}, CWD), /no credentials/)
    assert.throws(
      () => parseIngestArgs(['a', '--secret-key', 'hush'], env, CWD),
      /there is no --secret-key flag/,
    )
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
