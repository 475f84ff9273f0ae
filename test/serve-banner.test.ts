/**
 * `opencts serve` as a newcomer starts it: the start-up banner names the console's URL, and that
 * URL and the icon a browser asks for answer (no 404) on the running server.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'node:test'
import { runCliInProcess } from './helpers/run-cli-in-process.js'

it('serve prints the console URL in its banner; the console and /favicon.ico answer', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'opencts-banner-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  let banner = ''
  let checked = false
  const answers: Record<string, number> = {}
  let stop: (signal: string) => void = () => undefined
  const stopped = new Promise<string>((resolve) => (stop = resolve))
  const timer = setTimeout(() => stop('SIGTERM'), 30_000)
  const run = await runCliInProcess(
    ['serve', '--port', '0', '--data-dir', join(dir, 'data'), '--log-level', 'silent'],
    {
      env: {},
      untilShutdown: () => stopped,
      onStdout: (text) => {
        banner += text
        if (checked || !banner.includes('Press Ctrl+C')) return
        checked = true
        const url = /^ {2}console {9}(http:\/\/127\.0\.0\.1:\d+\/console\/)$/m.exec(banner)?.[1]
        void (async () => {
          if (url !== undefined)
            for (const path of [url, new URL('/favicon.ico', url).href])
              answers[path] = (await fetch(path)).status
          stop('SIGTERM')
        })()
      },
    },
  )
  clearTimeout(timer)
  assert.equal(run.status, 0, run.stderr)
  const url = /^ {2}console {9}(\S+)$/m.exec(run.stdout)?.[1]
  assert.ok(url !== undefined, run.stdout)
  const listening = /OpenCTS listening on (\S+)/.exec(run.stdout)?.[1]
  assert.equal(url, `${listening}/console/`)
  // The hint of the first start runs as printed (here: the in-process build's main.js).
  const hint = /^Try: node (\S+) query --credentials (\S+)$/m.exec(run.stdout)
  assert.ok(hint?.[1] !== undefined && existsSync(hint[1]), run.stdout)
  assert.ok(hint[2] !== undefined && existsSync(hint[2]), run.stdout)
  // 200 with a built console, 503 (a page saying how to build it) without: never a 404.
  assert.ok([200, 503].includes(answers[url] ?? 0), JSON.stringify(answers))
  assert.equal(answers[new URL('/favicon.ico', url).href], 200, JSON.stringify(answers))
})
