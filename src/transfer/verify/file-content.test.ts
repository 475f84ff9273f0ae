/**
 * Tests of `checkFileContent`: what a trace file must hold (a JSON array of objects, gzip as one
 * member), and envelopes: left unchecked without keys, opened with them, and altered ciphertext
 * or an unknown key version.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { gzipSync } from 'node:zlib'
import { sealEnvelope, type MasterKeyVersion } from '../envelope.js'
import { checkFileContent } from './file-content.js'

const ARRAY = Buffer.from('[{"trace_id":"a"},{"trace_id":"b"}]')
const MASTER: MasterKeyVersion = { kmsId: 'k-1', version: 1, material: Buffer.alloc(32, 7) }

describe('checkFileContent', () => {
  it('accepts a JSON array of objects, gzip or plain', () => {
    assert.deepEqual(checkFileContent(gzipSync(ARRAY), 'gzip', undefined), {
      problems: [],
      extraBytes: 0,
    })
    assert.deepEqual(checkFileContent(ARRAY, 'json', undefined).problems, [])
    assert.deepEqual(checkFileContent(Buffer.from('[]'), 'json', undefined).problems, [])
  })

  it('names what is wrong with the JSON', () => {
    const problems = (text: string) =>
      checkFileContent(Buffer.from(text), 'json', undefined).problems
    assert.deepEqual(problems('{"a":1}'), ['invalid format: not a JSON array'])
    assert.deepEqual(problems('[{"a":1},2]'), ['invalid format: element 1 is not an object'])
    assert.deepEqual(problems('[{"a":1}'), ['invalid format: not JSON'])
    assert.deepEqual(
      checkFileContent(Buffer.from([0x5b, 0xff, 0x5d]), 'json', undefined).problems,
      ['invalid format: not UTF-8'],
    )
  })

  it('refuses a .json.gz file that is not gzip, and reports appended data', () => {
    assert.deepEqual(checkFileContent(ARRAY, 'gzip', undefined).problems, [
      'invalid format: not gzip (no 1f 8b magic)',
    ])
    const appended = Buffer.concat([gzipSync(ARRAY), gzipSync(Buffer.from('[{"x":1}]'))])
    const check = checkFileContent(appended, 'gzip', undefined)
    assert.equal(check.extraBytes, appended.length - gzipSync(ARRAY).length)
    assert.deepEqual(check.problems, [
      `extra data after the gzip stream (${check.extraBytes} bytes)`,
    ])
  })

  it('leaves an envelope unchecked without keys, and says so', () => {
    const sealed = sealEnvelope(gzipSync(ARRAY), MASTER)
    assert.deepEqual(checkFileContent(sealed, 'gzip', undefined), {
      problems: [],
      extraBytes: 0,
      notChecked: 'encrypted, content not checked',
    })
  })

  it('opens an envelope with its key and checks the plaintext', () => {
    assert.deepEqual(checkFileContent(sealEnvelope(gzipSync(ARRAY), MASTER), 'gzip', [MASTER]), {
      problems: [],
      extraBytes: 0,
    })
    const notArray = sealEnvelope(gzipSync(Buffer.from('{}')), MASTER)
    assert.deepEqual(checkFileContent(notArray, 'gzip', [MASTER]).problems, [
      'invalid format: not a JSON array',
    ])
  })

  it('reports altered ciphertext as a decryption failure', () => {
    const sealed = sealEnvelope(gzipSync(ARRAY), MASTER)
    sealed[sealed.length - 20] = (sealed[sealed.length - 20] ?? 0) ^ 1
    const [problem] = checkFileContent(sealed, 'gzip', [MASTER]).problems
    assert.match(problem ?? '', /^decryption failed: .*altered/)
  })

  it('notes a key version missing from the key file instead of failing', () => {
    const other: MasterKeyVersion = { ...MASTER, version: 2 }
    const check = checkFileContent(sealEnvelope(ARRAY, MASTER), 'json', [other])
    assert.deepEqual(check.problems, [])
    assert.equal(
      check.notChecked,
      'encrypted with key k-1 version 1, not in the key file: content not checked',
    )
  })
})
