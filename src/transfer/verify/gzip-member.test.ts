/**
 * Tests of `readGzipMember`: where the first gzip member ends with every optional header field,
 * appended members and bytes, and the ways a member can be broken (truncated anywhere, corrupt
 * CRC, not gzip at all).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { crc32, deflateRawSync, gzipSync } from 'node:zlib'
import { readGzipMember } from './gzip-member.js'

const JSON_TEXT = Buffer.from(JSON.stringify([{ trace_id: 'a' }, { trace_id: 'b' }]), 'utf8')

/** A gzip member built by hand with the optional header fields asked for. */
function member(
  content: Buffer,
  fields: { extra?: Buffer; name?: string; comment?: string; headerCrc?: boolean } = {},
): Buffer {
  let flags = 0
  const parts: Buffer[] = []
  if (fields.extra !== undefined) {
    flags |= 0x04
    const length = Buffer.alloc(2)
    length.writeUInt16LE(fields.extra.length)
    parts.push(length, fields.extra)
  }
  if (fields.name !== undefined) {
    flags |= 0x08
    parts.push(Buffer.from(`${fields.name}\0`, 'latin1'))
  }
  if (fields.comment !== undefined) {
    flags |= 0x10
    parts.push(Buffer.from(`${fields.comment}\0`, 'latin1'))
  }
  if (fields.headerCrc === true) flags |= 0x02
  const fixed = Buffer.from([0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 3])
  let header = Buffer.concat([fixed, ...parts])
  if (fields.headerCrc === true) {
    const crc = Buffer.alloc(2)
    crc.writeUInt16LE(crc32(header) & 0xffff)
    header = Buffer.concat([header, crc])
  }
  const trailer = Buffer.alloc(8)
  trailer.writeUInt32LE(crc32(content), 0)
  trailer.writeUInt32LE(content.length, 4)
  return Buffer.concat([header, deflateRawSync(content), trailer])
}

function ok(bytes: Buffer) {
  const result = readGzipMember(bytes)
  assert.ok(result.ok, result.ok ? '' : result.problem)
  return result
}

function problem(bytes: Buffer): string {
  const result = readGzipMember(bytes)
  assert.ok(!result.ok, 'want a problem')
  return result.problem
}

describe('readGzipMember', () => {
  it('reads a single member as zlib writes it, with nothing after it', () => {
    const bytes = gzipSync(JSON_TEXT)
    const result = ok(bytes)
    assert.deepEqual(result.content, JSON_TEXT)
    assert.equal(result.end, bytes.length)
    assert.equal(result.extraBytes, 0)
  })

  it('skips FEXTRA, FNAME, FCOMMENT and FHCRC header fields', () => {
    const bytes = member(JSON_TEXT, {
      extra: Buffer.from('AB\x04\x00wxyz', 'latin1'),
      name: 'traces.json',
      comment: 'written by hand',
      headerCrc: true,
    })
    const result = ok(bytes)
    assert.deepEqual(result.content, JSON_TEXT)
    assert.equal(result.extraBytes, 0)
  })

  it('reads a member with only an FNAME, as gzip(1) writes it', () => {
    const result = ok(member(JSON_TEXT, { name: 'file.json' }))
    assert.deepEqual(result.content, JSON_TEXT)
  })

  it('stops at the first member: a second member is counted as extra bytes, not read', () => {
    const first = gzipSync(JSON_TEXT)
    const second = member(Buffer.from('[{"trace_id":"injected"}]'), { name: 'x' })
    const result = ok(Buffer.concat([first, second]))
    assert.deepEqual(result.content, JSON_TEXT)
    assert.equal(result.end, first.length)
    assert.equal(result.extraBytes, second.length)
  })

  it('counts plain bytes appended after the trailer', () => {
    const first = gzipSync(JSON_TEXT)
    assert.equal(ok(Buffer.concat([first, Buffer.from('\n')])).extraBytes, 1)
  })

  it('finds the end of a member whose deflate stream spans many blocks', () => {
    const big = Buffer.from(
      JSON.stringify(Array.from({ length: 20_000 }, (_, i) => ({ i, r: (i * 7919) % 104729 }))),
    )
    const first = gzipSync(big)
    const result = ok(Buffer.concat([first, gzipSync(Buffer.from('[]'))]))
    assert.equal(result.end, first.length)
    assert.equal(result.content.length, big.length)
  })

  it('reports a member truncated anywhere: header, deflate data or trailer', () => {
    const bytes = member(JSON_TEXT, { name: 'traces.json', headerCrc: true })
    for (let length = 1; length < bytes.length; length++)
      assert.match(
        problem(bytes.subarray(0, length)),
        /truncated|too short|corrupt/,
        `at ${length}`,
      )
  })

  it('names the unterminated header field', () => {
    const bytes = member(JSON_TEXT, { name: 'traces.json' })
    assert.equal(problem(bytes.subarray(0, 14)), 'truncated gzip header (FNAME)')
    const extra = member(JSON_TEXT, { extra: Buffer.alloc(40) })
    assert.equal(problem(extra.subarray(0, 20)), 'truncated gzip header (FEXTRA)')
  })

  it('reports a CRC or size that does not match the content', () => {
    const bytes = gzipSync(JSON_TEXT)
    const badCrc = Buffer.from(bytes)
    badCrc[bytes.length - 8] = (badCrc[bytes.length - 8] ?? 0) ^ 0xff
    assert.match(problem(badCrc), /^corrupt gzip member/)
    const badSize = Buffer.from(bytes)
    badSize[bytes.length - 1] = 0x7f
    assert.match(problem(badSize), /^corrupt gzip member/)
  })

  it('refuses what is not gzip', () => {
    assert.equal(problem(Buffer.alloc(0)), 'empty file')
    assert.equal(problem(JSON_TEXT), 'not gzip (no 1f 8b magic)')
    const deflate = Buffer.from(gzipSync(JSON_TEXT))
    deflate[2] = 7
    assert.equal(problem(deflate), 'not gzip (compression method 7, want 8)')
    const reserved = Buffer.from(gzipSync(JSON_TEXT))
    reserved[3] = 0x20
    assert.equal(problem(reserved), 'not gzip (reserved header flags set)')
  })

  it('reports corrupt deflate data', () => {
    const bytes = Buffer.from(gzipSync(JSON_TEXT))
    bytes.fill(0xff, 10, 14)
    assert.match(problem(bytes), /^corrupt gzip (data|member)/)
  })
})
