/**
 * Tests of the terminal table: alignment, truncation and control-character neutralising.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatTable, tableCell } from './format-table.js'

describe('formatTable', () => {
  it('aligns columns to the widest cell and trims trailing spaces', () => {
    assert.equal(
      formatTable(
        ['A', 'BB'],
        [
          ['long value', 'x'],
          ['s', ''],
        ],
      ),
      'A           BB\nlong value  x\ns\n',
    )
  })
})

describe('tableCell', () => {
  it('shows control characters as ? so trace data cannot drive the terminal', () => {
    assert.equal(tableCell('evil\u001b[2Jname\nnext\ttab'), 'evil?[2Jname?next?tab')
    assert.equal(tableCell('c1\u009bchar'), 'c1?char')
  })

  it('cuts long values with an ellipsis at the maximum width', () => {
    const cell = tableCell('x'.repeat(100), 10)
    assert.equal(cell, 'xxxxxxxxx…')
    assert.equal([...tableCell('é'.repeat(12), 10)].length, 10)
  })
})
