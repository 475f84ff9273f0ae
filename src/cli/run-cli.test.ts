/**
 * Tests of command dispatch and exit statuses (no server needed): help, usage errors (2), setting
 * errors (2), and an unreachable endpoint (1).
 */
import assert from 'node:assert/strict'
import { createServer, type AddressInfo } from 'node:net'
import { describe, it } from 'node:test'
import { runCliInProcess, type CliRun } from '../../test/helpers/run-cli-in-process.js'
import { MAIN_USAGE } from './usage.js'

const PROJECT = '0123456789abcdef0123456789abcdef'

function run(argv: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCliInProcess(argv, { env, now: () => Date.UTC(2026, 4, 10) })
}

describe('runCli', () => {
  it('prints the usage on stderr and exits 2 without a command', async () => {
    const result = await run([])
    assert.equal(result.status, 2)
    assert.match(result.stderr, /^Usage: opencts <command>/)
    assert.equal(result.stdout, '')
  })

  it('exits 2 with the usage for an unknown command', async () => {
    const result = await run(['frobnicate'])
    assert.equal(result.status, 2)
    assert.match(result.stderr, /unknown command "frobnicate"[\s\S]*Usage: opencts <command>/)
  })

  it('prints help on stdout and exits 0, for the tool and each command', async () => {
    assert.match((await run(['--help'])).stdout, /Commands:\n {2}serve/)
    for (const command of ['serve', 'ingest', 'query', 'admin']) {
      const result = await run([command, '--help'])
      assert.equal(result.status, 0, command)
      assert.match(result.stdout, new RegExp(`^Usage: opencts ${command}`), command)
      assert.match((await run(['help', command])).stdout, new RegExp(`^Usage: opencts ${command}`))
    }
    assert.match((await run(['--version'])).stdout, /^opencts \d+\.\d+\.\d+\n$/)
  })

  it('exits 2 with the command usage on an unknown flag', async () => {
    for (const command of ['serve', 'ingest', 'query', 'admin']) {
      const result = await run([command, '--frob'])
      assert.equal(result.status, 2, command)
      assert.match(result.stderr, new RegExp(`opencts ${command}: Unknown option '--frob'`))
      assert.match(result.stderr, new RegExp(`Usage: opencts ${command}`))
    }
  })

  it('exits 2 with one message (no usage) on an invalid setting', async () => {
    const byFlag = await run(['serve', '--port', '70000'])
    assert.equal(byFlag.status, 2)
    assert.equal(
      byFlag.stderr,
      'opencts serve: invalid setting: port must be an integer from 0 to 65535, got "70000" (set by --port or OPENCTS_PORT)\n',
    )
    const byEnv = await run(['serve'], { OPENCTS_RETENTION_DAYS: 'many' })
    assert.equal(byEnv.status, 2)
    assert.match(
      byEnv.stderr,
      /retentionDays must be an integer.*\(set by OPENCTS_RETENTION_DAYS\)/,
    )
  })

  it('exits 1 naming the endpoint when the server cannot be reached', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const { port } = probe.address() as AddressInfo
    await new Promise((resolve) => probe.close(resolve))
    const endpoint = `http://127.0.0.1:${port}`
    const result = await run(['query', '-p', PROJECT, '--token', 'octs1_t', '--endpoint', endpoint])
    assert.equal(result.status, 1)
    assert.equal(result.stderr, `error: cannot reach ${endpoint}: ECONNREFUSED\n`)
  })

  it('exits 2 with one message when a secret is given as a flag, without echoing it', async () => {
    const result = await run(['query', '-p', PROJECT, '--secret-key=hush-hush'])
    assert.equal(result.status, 2)
    assert.match(result.stderr, /^opencts query: there is no --secret-key flag/)
    assert.doesNotMatch(result.stderr, /hush/)
  })

  it('exits 1 when the input file does not exist', async () => {
    const result = await run(['ingest', '/nonexistent/traces.jsonl', '-p', PROJECT, '--token', 't'])
    assert.equal(result.status, 1)
    assert.match(result.stderr, /^error: cannot read \/nonexistent\/traces\.jsonl: ENOENT/)
  })

  it('runs every "opencts ... --help" hint that any help or usage error prints: exit 0, help text', async () => {
    const commands = [...MAIN_USAGE.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1] ?? '')
    assert.ok(commands.length >= 9, commands.join(' '))
    // Every help, and a usage error of every command and mode.
    const seeds: string[][] = [[], ['--help'], ['frobnicate']]
    for (const command of commands) seeds.push([command, '--help'], [command, '--frob'])
    // Commands that need a subcommand or a mode (never `serve` or a client command: they would run).
    seeds.push(
      ['admin'],
      ['keys'],
      ['log'],
      ['verify'],
      ['verify', '--store'],
      ['verify', '--store', '/nonexistent', '--frob'],
      ['verify', '--checkpoints', 'x', '--frob'],
      ['query', '-p'],
    )
    const hintsOf = (text: string): string[][] =>
      [...text.matchAll(/["`]opencts ([^"`\n]*?)--help["`]/g)].flatMap((m) => {
        const words = (m[1] ?? '').split(' ').filter((w) => w !== '')
        return words[0] === '<command>'
          ? commands.map((command) => [command, ...words.slice(1), '--help'])
          : [[...words, '--help']]
      })
    const seen = new Set<string>()
    const queue: string[][] = []
    const collect = (result: CliRun): void => {
      for (const hint of hintsOf(result.stdout + result.stderr)) {
        if (seen.has(hint.join(' '))) continue
        seen.add(hint.join(' '))
        queue.push(hint)
      }
    }
    for (const seed of seeds) collect(await run(seed))
    for (let i = 0; i < queue.length && i < 100; i++) {
      const hint = queue[i] ?? []
      const result = await run(hint)
      const label = `opencts ${hint.join(' ')}: ${result.stderr}`
      assert.equal(result.status, 0, label)
      assert.match(result.stdout, /^Usage: opencts /, label)
      assert.equal(result.stderr, '', label)
      collect(result)
    }
    assert.ok(seen.has('verify --store --help'), [...seen].join(', '))
    assert.ok(seen.has('query --help') && seen.has('log --help'), [...seen].join(', '))
    // Help wins wherever it stands, even after an option that takes a value.
    const store = await run(['verify', '--store', '--help'])
    assert.match(store.stdout, /^Usage: opencts verify --store/)
    for (const argv of [
      ['query', '-p', '--help'],
      ['serve', '--port', '-h'],
      ['admin', 'user', 'create', '--name', '--help'],
    ]) {
      const result = await run(argv)
      assert.equal(result.status, 0, `${argv.join(' ')}: ${result.stderr}`)
      assert.match(result.stdout, new RegExp(`^Usage: opencts ${argv[0] ?? ''}`))
    }
  })
})
