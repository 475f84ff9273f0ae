/**
 * End to end: one server per data directory (store/sqlite/data-dir-lock). A second `opencts serve`
 * on a directory in use exits 1 naming the directory and the holder's PID; `opencts admin` still
 * works beside the running server; after a SIGKILL of the holder (no clean-up ran) a new server
 * starts on the same directory.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, it } from 'node:test'
import { ADMIN_ENV, MAIN, crash, killAllServers, serve } from './helpers/server-process.js'

const dirs: string[] = []
after(() => {
  killAllServers()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

it('a second server on a data directory in use refuses with the PID; after SIGKILL one starts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'opencts-lock-'))
  dirs.push(dir)
  const first = await serve(dir)
  const pid = first.child.pid
  assert.ok(pid !== undefined)

  const second = spawnSync(
    process.execPath,
    [MAIN, 'serve', '--port', '0', '--data-dir', dir, '--log-level', 'silent'],
    { env: { PATH: process.env.PATH ?? '', ...ADMIN_ENV }, encoding: 'utf8', timeout: 15_000 },
  )
  assert.equal(second.status, 1, `exit status; stderr: ${second.stderr}`)
  assert.match(second.stderr, new RegExp(`in use by another OpenCTS server \\(PID ${pid}\\)`))
  assert.ok(second.stderr.includes(dir), `names the data directory: ${second.stderr}`)
  assert.doesNotMatch(second.stdout, /listening/)

  // Tools that open the store directly keep working beside the server.
  const admin = spawnSync(process.execPath, [MAIN, 'admin', 'account', 'list', '--data-dir', dir], {
    env: { PATH: process.env.PATH ?? '' },
    encoding: 'utf8',
    timeout: 15_000,
  })
  assert.equal(admin.status, 0, admin.stderr)

  // The holder still serves after the refused start.
  const health = await fetch(`${first.url}/health`, { signal: AbortSignal.timeout(15_000) })
  assert.equal(health.status, 200)

  await crash(first)
  const third = await serve(dir)
  const again = await fetch(`${third.url}/health`, { signal: AbortSignal.timeout(15_000) })
  assert.equal(again.status, 200)
  await crash(third)
})
