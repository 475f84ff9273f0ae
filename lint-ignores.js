/**
 * @module lint-ignores
 * What lint leaves alone besides its ignore files: every file and folder git does not track (and
 * does not ignore either), e.g. the files of the README tour run inside the clone by mistake.
 * Read by eslint.config.js (global ignores) and prettier.config.js (skipped through
 * `requirePragma`), so `npm run lint`, `npx eslint .` and `npx prettier --check .` agree. Outside a
 * git work tree (or without git) nothing extra is ignored.
 */
import { execFileSync } from 'node:child_process'

/**
 * Untracked, not ignored paths under `root`, relative to it, as glob patterns: a file as itself, a
 * wholly untracked folder as `folder/**`.
 */
export function untrackedPatterns(root) {
  let out
  try {
    out = execFileSync(
      'git',
      ['ls-files', '--others', '--exclude-standard', '--directory', '--no-empty-directory', '-z'],
      { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 16 << 20 },
    )
  } catch {
    return []
  }
  return out
    .split('\0')
    .filter((path) => path !== '')
    .map((path) => (path.endsWith('/') ? `${path}**` : path))
}
