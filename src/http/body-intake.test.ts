import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BodyBudget } from './body-intake.js'
import { parserFailure, rawAnswer } from './client-errors.js'

describe('BodyBudget', () => {
  it('admits bodies up to its bound, always a lone one, and frees what is given back', () => {
    const budget = new BodyBudget(100)
    assert.equal(budget.tryTake(500), true, 'a lone body is always admitted')
    assert.equal(budget.tryTake(1), false)
    budget.give(500)
    assert.equal(budget.inFlight, 0)
    assert.equal(budget.tryTake(60), true)
    assert.equal(budget.tryTake(40), true)
    assert.equal(budget.tryTake(1), false)
    budget.give(40)
    assert.equal(budget.tryTake(40), true)
    assert.equal(budget.inFlight, 100)
  })
})

describe('parserFailure', () => {
  it('maps each Node parser error code to its CTS error, and peer resets to none', () => {
    const of = (code: string, reason?: string) =>
      parserFailure(Object.assign(new Error('x'), { code, reason }))
    assert.equal(of('HPE_HEADER_OVERFLOW')?.errorCode, 'OCTS.0103')
    assert.equal(of('HPE_HEADER_OVERFLOW')?.httpStatus, 431)
    assert.equal(of('ERR_HTTP_REQUEST_TIMEOUT')?.httpStatus, 408)
    assert.equal(of('HPE_INVALID_URL')?.errorCode, 'OCTS.0400')
    const chunk = of('HPE_INVALID_CHUNK_SIZE', 'Invalid character in chunk size\n')
    assert.equal(chunk?.errorCode, 'OCTS.0105')
    assert.equal(
      chunk?.message,
      'The request is not valid HTTP/1.1: Invalid character in chunk size?.',
    )
    assert.equal(of('ECONNRESET'), null)
  })

  it('writes a complete HTTP/1.1 answer with the CTS body and a close', () => {
    const failure = parserFailure(Object.assign(new Error('x'), { code: 'HPE_HEADER_OVERFLOW' }))
    assert.ok(failure !== null)
    const text = rawAnswer(failure)
    const [head, body] = text.split('\r\n\r\n')
    assert.match(head ?? '', /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/)
    assert.match(head ?? '', /\r\nConnection: close$/)
    assert.match(head ?? '', new RegExp(`Content-Length: ${Buffer.byteLength(body ?? '')}`))
    assert.deepEqual(JSON.parse(body ?? ''), failure.toBody())
  })
})
