/**
 * @module cli/format-table
 * A plain-text table for terminals: left-aligned columns separated by two spaces, cells cut to a
 * maximum width with an ellipsis. Control characters (including ESC) are shown as `?`, so trace
 * fields, which producers control, cannot move the cursor or recolour the terminal.
 */

/** Widest a cell is printed, in characters. */
export const MAX_CELL_WIDTH = 40

/** The cell as printed: single line, no control characters, at most `max` characters. */
export function tableCell(value: string, max = MAX_CELL_WIDTH): string {
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
  const chars = [...clean]
  return chars.length <= max ? clean : chars.slice(0, max - 1).join('') + '…'
}

/** The table with a header row; every line ends with `\n`, trailing spaces trimmed. */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const cells = [header, ...rows].map((row) => row.map((value) => tableCell(value)))
  const widths = header.map((_, column) =>
    Math.max(...cells.map((row) => [...(row[column] ?? '')].length)),
  )
  return cells
    .map(
      (row) =>
        row
          .map((cell, column) => cell + ' '.repeat((widths[column] ?? 0) - [...cell].length))
          .join('  ')
          .trimEnd() + '\n',
    )
    .join('')
}
