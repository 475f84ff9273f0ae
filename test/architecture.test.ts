/**
 * Module borders of design.md, enforced: pure cores import nothing with I/O, nothing above `store/`
 * sees the SQLite driver, and only the entry points read process.env.
 */
import assert from 'node:assert/strict'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { it } from 'node:test'
import { repoRoot } from './helpers/repo-root.js'

const root = repoRoot()

function sources(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...sources(path))
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(path)
  }
  return out
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/^(?:import|export)[^'"]*from\s+'([^']+)'/gm)].map((m) => m[1] ?? '')
}

const all = sources(join(root, 'src')).map((file) => ({
  file: relative(root, file),
  imports: imports(file),
}))

it('model/ imports only itself (and node:crypto)', () => {
  for (const { file, imports: list } of all.filter((f) => f.file.startsWith('src/model/'))) {
    for (const spec of list)
      assert.ok(spec.startsWith('./') || spec === 'node:crypto', `${file} imports ${spec}`)
  }
})

it('errors/ imports nothing else', () => {
  for (const { file, imports: list } of all.filter((f) => f.file.startsWith('src/errors/'))) {
    for (const spec of list) assert.ok(spec.startsWith('./'), `${file} imports ${spec}`)
  }
})

it('only store/sqlite imports the SQLite driver', () => {
  for (const { file, imports: list } of all) {
    if (file.startsWith('src/store/sqlite/')) continue
    assert.ok(!list.includes('better-sqlite3'), `${file} imports better-sqlite3`)
  }
})

it('only config/ and the entry points read process.env', () => {
  for (const { file } of all) {
    if (file.startsWith('src/config/') || file === 'src/cli/main.ts') continue
    assert.doesNotMatch(
      readFileSync(join(root, file), 'utf8'),
      /process\.env/,
      `${file} reads process.env`,
    )
  }
})

it('every import of a relative module carries the .js suffix and built-ins the node: prefix', () => {
  const builtins = new Set([
    'fs',
    'path',
    'crypto',
    'os',
    'http',
    'https',
    'url',
    'util',
    'stream',
    'zlib',
    'events',
    'child_process',
    'net',
  ])
  for (const { file, imports: list } of all) {
    for (const spec of list) {
      if (spec.startsWith('.')) assert.match(spec, /\.js$/, `${file} imports ${spec}`)
      assert.ok(!builtins.has(spec), `${file} imports ${spec} without node:`)
    }
  }
})

it('auth/ stays below http: model, errors, the store port, platform, self-audit and node: only', () => {
  const allowed = [
    /^\.\//,
    /^\.\.\/(model|errors|platform)\//,
    /^\.\.\/store\/index\.js$/,
    /^\.\.\/ingest\/index\.js$/,
    /^node:(crypto|fs)$/,
  ]
  for (const { file, imports: list } of all.filter((f) => f.file.startsWith('src/auth/'))) {
    for (const spec of list)
      assert.ok(
        allowed.some((re) => re.test(spec)),
        `${file} imports ${spec}`,
      )
  }
})

it('auth/sdk-hmac is pure (node:crypto only): the CLI and the server share it', () => {
  const file = all.find((f) => f.file === 'src/auth/sdk-hmac.ts')
  assert.ok(file)
  for (const spec of file.imports) assert.equal(spec, 'node:crypto', spec)
})

it('integrity/ is pure: node:crypto and itself only', () => {
  for (const { file, imports: list } of all.filter((f) => f.file.startsWith('src/integrity/'))) {
    for (const spec of list)
      assert.ok(spec.startsWith('./') || spec === 'node:crypto', `${file} imports ${spec}`)
  }
})

it('transfer/ sits on model, integrity, errors, platform, config types and the store port; only s3/ loads the AWS SDK', () => {
  const allowed = [
    /^\.\.?\//,
    /^\.\.\/(\.\.\/)?(model|errors|platform|integrity|config)\//,
    /^\.\.\/(\.\.\/)?store\/index\.js$/,
    /^node:/,
  ]
  for (const { file, imports: list } of all.filter((f) => f.file.startsWith('src/transfer/'))) {
    for (const spec of list) {
      if (spec === '@aws-sdk/client-s3') {
        assert.ok(file.startsWith('src/transfer/s3/'), `${file} imports ${spec}`)
        continue
      }
      assert.ok(
        allowed.some((re) => re.test(spec)),
        `${file} imports ${spec}`,
      )
    }
  }
})

it('recorder/ talks to OpenCTS only through an injected reporter: model, errors and node: only', () => {
  for (const { file, imports: list } of all.filter((f) => f.file.startsWith('src/recorder/'))) {
    for (const spec of list) {
      if (spec.startsWith('node:')) continue
      const target = join(dirname(file), spec)
      assert.ok(
        spec.startsWith('.') && /^src\/(recorder|model|errors)\//.test(target),
        `${file} imports ${spec}`,
      )
    }
  }
})

it('log/ sits on integrity, model, errors, platform and the store port; never the SQLite driver', () => {
  for (const { file, imports: list } of all.filter((f) => f.file.startsWith('src/log/'))) {
    for (const spec of list)
      assert.ok(
        spec.startsWith('./') ||
          spec.startsWith('node:') ||
          /^\.\.\/(integrity|model|errors|platform)\//.test(spec) ||
          spec === '../store/index.js',
        `${file} imports ${spec}`,
      )
  }
})
