/**
 * Tests of RFC 4180 quoting.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { csvField, formatCsv } from './format-csv.js'

describe('csvField', () => {
  it('leaves plain values unquoted', () => {
    assert.equal(csvField('createImage'), 'createImage')
    assert.equal(csvField(''), '')
    assert.equal(csvField(' spaced '), ' spaced ')
  })

  it('quotes commas, quotes, CR and LF, doubling inner quotes', () => {
    assert.equal(csvField('a,b'), '"a,b"')
    assert.equal(csvField('say "hi"'), '"say ""hi"""')
    assert.equal(csvField('two\nlines'), '"two\nlines"')
    assert.equal(csvField('cr\rhere'), '"cr\rhere"')
    assert.equal(csvField('"'), '""""')
  })
})

describe('formatCsv', () => {
  it('writes a header row and CRLF line ends', () => {
    assert.equal(
      formatCsv(
        ['name', 'note'],
        [
          ['a', 'x,y'],
          ['b', ''],
        ],
      ),
      'name,note\r\na,"x,y"\r\nb,\r\n',
    )
  })

  it('writes only the header when there are no rows', () => {
    assert.equal(formatCsv(['a', 'b'], []), 'a,b\r\n')
  })
})
