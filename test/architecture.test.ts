/**
 * Module borders of design.md, enforced: pure cores import nothing with I/O, nothing outside
 * `store/` imports an engine (`store/sqlite/`, `store/postgres/`) or a database driver (tests of
 * other modules included: they open their store by URL with `openStore`), and only the entry
 * points read process.env.
 */
import assert from 'node:assert/strict'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { it } from 'node:test'
import { repoRoot } from './helpers/repo-root.js'

const root = repoRoot()

function sources(dir: string, withTests = false): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...sources(path, withTests))
    else if (name.endsWith('.ts') && (withTests || !name.endsWith('.test.ts'))) out.push(path)
  }
  return out
}

/** Static imports and re-exports, side-effect imports and dynamic `import('…')` of a file. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [
    ...text.matchAll(/^(?:import|export)[^'"]*from\s+'([^']+)'/gm),
    ...text.matchAll(/^import\s+'([^']+)'/gm),
    ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
  ].map((m) => m[1] ?? '')
}

const scan = (withTests: boolean): { file: string; imports: string[] }[] =>
  sources(join(root, 'src'), withTests).map((file) => ({
    file: relative(root, file),
    imports: imports(file),
  }))

const all = scan(false)
/** Every file of src/, its tests included. */
const allWithTests = scan(true)

/** The repository path a relative import of `file` names (`src/store/sqlite/index.ts`), or undefined. */
function target(file: string, spec: string): string | undefined {
  return spec.startsWith('.') ? join(dirname(file), spec).replace(/\.js$/, '.ts') : undefined
}

const ENGINES = ['src/store/sqlite/', 'src/store/postgres/']
const DRIVERS: Record<string, string> = {
  'better-sqlite3': 'src/store/sqlite/',
  pg: 'src/store/postgres/',
  'pg-copy-streams': 'src/store/postgres/',
}

it('model/ imports only itself (and node:crypto)', () => {
  for (const { file, imports: list } of all.filter((f) => f.file.startsWith('src/model/'))) {
    for (const spec of list)
      assert.ok(spec.startsWith('./') || spec === 'node:crypto', `${file} imports ${spec}`)
  }
})

it('formats/ imports only itself and model/ (pure: a trace in, text out)', () => {
  for (const { file, imports: list } of all.filter((f) => f.file.startsWith('src/formats/'))) {
    for (const spec of list)
      assert.ok(spec.startsWith('./') || spec.startsWith('../model/'), `${file} imports ${spec}`)
  }
})

it('errors/ imports nothing else', () => {
  for (const { file, imports: list } of all.filter((f) => f.file.startsWith('src/errors/'))) {
    for (const spec of list) assert.ok(spec.startsWith('./'), `${file} imports ${spec}`)
  }
})

it('nothing outside store/ imports an engine, tests of other modules included', () => {
  const offenders: string[] = []
  for (const { file, imports: list } of allWithTests) {
    if (file.startsWith('src/store/')) continue
    for (const spec of list) {
      const path = target(file, spec)
      if (path !== undefined && ENGINES.some((engine) => path.startsWith(engine)))
        offenders.push(`${file} imports ${spec}`)
    }
  }
  assert.deepEqual(offenders, [])
})

it('inside store/, only open-store.ts picks an engine, and no engine imports another', () => {
  const offenders: string[] = []
  for (const { file, imports: list } of allWithTests.filter((f) =>
    f.file.startsWith('src/store/'),
  )) {
    const own = ENGINES.find((engine) => file.startsWith(engine))
    if (file === 'src/store/open-store.ts') continue
    for (const spec of list) {
      const path = target(file, spec)
      const engine = ENGINES.find((e) => path?.startsWith(e) === true)
      if (engine !== undefined && engine !== own) offenders.push(`${file} imports ${spec}`)
    }
  }
  assert.deepEqual(offenders, [])
})

it('only store/sqlite/ imports better-sqlite3, only store/postgres/ imports pg and pg-copy-streams', () => {
  const offenders: string[] = []
  for (const { file, imports: list } of allWithTests) {
    for (const spec of list) {
      const home = DRIVERS[spec.replace(/^(pg|pg-copy-streams|better-sqlite3)\/.*$/, '$1')]
      if (home !== undefined && !file.startsWith(home)) offenders.push(`${file} imports ${spec}`)
    }
  }
  assert.deepEqual(offenders, [])
})

it('the engine rules see what they check: every engine and driver import of store/', () => {
  // Guards the scan itself: were a regex or a path wrong, the rules above would pass on nothing.
  const seen = (file: string, spec: string): boolean =>
    allWithTests.some((f) => f.file === file && f.imports.includes(spec))
  assert.ok(seen('src/store/open-store.ts', './sqlite/sqlite-store.js'))
  assert.ok(seen('src/store/open-store.ts', './postgres/postgres-store.js'))
  assert.ok(seen('src/store/postgres/pg-pool.ts', 'pg'))
  assert.ok(allWithTests.some((f) => f.imports.includes('better-sqlite3')))
  assert.equal(target('src/cli/x.ts', '../store/sqlite/index.js'), 'src/store/sqlite/index.ts')
  assert.ok(
    allWithTests.some((f) => f.file.endsWith('.test.ts')),
    'tests are scanned',
  )
})

it('http/ gets the narrow services, never the whole store', () => {
  for (const { file } of all.filter((f) => f.file.startsWith('src/http/'))) {
    const text = readFileSync(join(root, file), 'utf8')
    assert.doesNotMatch(text, /services\.store\b/, `${file} reaches the whole store`)
    assert.doesNotMatch(
      text,
      /import type \{[^}]*\bServices\b/,
      `${file} takes Services, not HttpServices`,
    )
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

it('alarms/ sits on model, errors, platform, the store port, self-audit, the ListTraces filter rules and topic URNs', () => {
  const allowed = [
    /^\.\//,
    /^\.\.\/(model|errors|platform)\//,
    /^\.\.\/store\/index\.js$/,
    /^\.\.\/ingest\/(index|audited-call)\.js$/,
    /^\.\.\/query\/parse-trace-query\.js$/,
    /^\.\.\/notifications\/topic-urn\.js$/,
    /^node:crypto$/,
  ]
  const files = all.filter((f) => f.file.startsWith('src/alarms/'))
  assert.ok(files.length > 0, 'alarms/ is scanned')
  for (const { file, imports: list } of files) {
    for (const spec of list)
      assert.ok(
        allowed.some((re) => re.test(spec)),
        `${file} imports ${spec}`,
      )
  }
})

it('insights/ sits on model, errors, platform, the store port, self-audit and config types; its detectors are pure', () => {
  const allowed = [
    /^\.\//,
    /^\.\.\/(model|errors|platform)\//,
    /^\.\.\/store\/index\.js$/,
    /^\.\.\/ingest\/index\.js$/,
    /^\.\.\/config\/config\.js$/,
  ]
  const files = all.filter(
    (f) => f.file.startsWith('src/insights/') && !f.file.startsWith('src/insights/detectors/'),
  )
  assert.ok(files.length >= 5, 'the rule sees the insights module')
  for (const { file, imports: list } of files) {
    for (const spec of list)
      assert.ok(
        allowed.some((re) => re.test(spec)),
        `${file} imports ${spec}`,
      )
  }
  // Detectors: no I/O (time comes in as arguments); node:crypto for the ids only.
  const pure = [
    /^\.\//,
    /^\.\.\/\.\.\/model\//,
    /^\.\.\/\.\.\/store\/index\.js$/,
    /^node:crypto$/,
    /^node:(test|assert\/strict)$/,
  ]
  for (const { file, imports: list } of allWithTests.filter((f) =>
    f.file.startsWith('src/insights/detectors/'),
  )) {
    for (const spec of list)
      assert.ok(
        pure.some((re) => re.test(spec)),
        `${file} imports ${spec}`,
      )
  }
})
