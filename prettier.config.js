// Prettier owns formatting. Files git does not track (lint-ignores.js) are left as they are: they
// go to the `as-is` parser below, whose printer gives back the text it was given, so `prettier
// --check .` passes over them whatever they hold (a JSON file included, which knows no pragma;
// CRLF line ends included: an RFC 4180 CSV).
import { untrackedPatterns } from './lint-ignores.js'

const untracked = untrackedPatterns(import.meta.dirname)

/** A parser and printer that change nothing. */
const asIs = {
  parsers: {
    'as-is': {
      parse: (text) => ({ type: 'as-is', text }),
      astFormat: 'as-is',
      locStart: () => 0,
      locEnd: (node) => node.text.length,
    },
  },
  printers: { 'as-is': { print: (path) => path.node.text } },
}

export default {
  semi: false,
  singleQuote: true,
  trailingComma: 'all',
  printWidth: 100,
  plugins: [asIs],
  overrides:
    untracked.length === 0
      ? []
      : [{ files: untracked, options: { parser: 'as-is', endOfLine: 'auto' } }],
}
