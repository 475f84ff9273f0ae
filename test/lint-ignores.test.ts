/**
 * Lint leaves alone what git does not track (lint-ignores.js), so the files of a README tour run
 * inside the clone by mistake cannot break `npm test`: eslint ignores them, prettier --check
 * passes over them whatever they hold; tracked files are still linted and checked.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, it } from 'node:test'
import { ESLint } from 'eslint'
import * as prettier from 'prettier'
import { repoRoot } from './helpers/repo-root.js'

const REPO_ROOT = repoRoot()

type UntrackedPatterns = (root: string) => string[]

async function untrackedPatterns(): Promise<UntrackedPatterns> {
  const module = (await import(pathToFileURL(join(REPO_ROOT, 'lint-ignores.js')).href)) as {
    untrackedPatterns: UntrackedPatterns
  }
  return module.untrackedPatterns
}

describe('lint ignores what git does not track', () => {
  it('lists untracked files and folders, not tracked or git-ignored ones; nothing outside git', async (t) => {
    const list = await untrackedPatterns()
    const dir = mkdtempSync(join(tmpdir(), 'opencts-lint-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const git = (...args: string[]): string =>
      execFileSync('git', args, { cwd: dir, encoding: 'utf8' })
    assert.deepEqual(list(dir), [], 'not a git work tree')
    git('init', '-q')
    writeFileSync(join(dir, '.gitignore'), 'ignored.txt\n')
    writeFileSync(join(dir, 'tracked.ts'), 'export const a = 1\n')
    git('add', '.gitignore', 'tracked.ts')
    writeFileSync(join(dir, 'ignored.txt'), 'x')
    writeFileSync(join(dir, 'list.mjs'), 'console.log("tour");\n')
    mkdirSync(join(dir, 'tour', 'deep'), { recursive: true })
    writeFileSync(join(dir, 'tour', 'deep', 'keys.json'), '{"a":1}')
    assert.deepEqual(list(dir).sort(), ['list.mjs', 'tour/**'])
  })

  it('eslint and prettier of this repository skip an untracked file, not a tracked one', async (t) => {
    const probe = `lint-probe-${process.pid}`
    const files = [`${probe}.mjs`, `${probe}.json`, `${probe}.csv`]
    const ugly = {
      mjs: 'const   x = {"a":1};;\nx.b()\n',
      json: '{"a":[1,\n2],   "b":2}',
      csv: 'a,b\r\n1,2\r\n',
    }
    writeFileSync(join(REPO_ROOT, files[0] ?? ''), ugly.mjs)
    writeFileSync(join(REPO_ROOT, files[1] ?? ''), ugly.json)
    writeFileSync(join(REPO_ROOT, files[2] ?? ''), ugly.csv)
    t.after(() => files.forEach((f) => rmSync(join(REPO_ROOT, f), { force: true })))
    const inGit = execFileSync('git', ['ls-files', '--error-unmatch', 'package.json'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    })
    assert.equal(inGit.trim(), 'package.json')
    const eslint = new ESLint({ cwd: REPO_ROOT })
    for (const file of files.slice(0, 2)) assert.equal(await eslint.isPathIgnored(file), true, file)
    assert.equal(await eslint.isPathIgnored('src/http/app.ts'), false)
    for (const [file, text] of [
      [files[0] ?? '', ugly.mjs],
      [files[1] ?? '', ugly.json],
      [files[2] ?? '', ugly.csv],
    ] as const) {
      const filepath = join(REPO_ROOT, file)
      const options = await prettier.resolveConfig(filepath, { editorconfig: false })
      assert.equal(await prettier.check(text, { ...options, filepath }), true, file)
    }
    // The same text at a tracked path is checked (and fails).
    const tracked = join(REPO_ROOT, 'package.json')
    const options = await prettier.resolveConfig(tracked)
    assert.equal(await prettier.check(ugly.json, { ...options, filepath: tracked }), false)
  })
})
