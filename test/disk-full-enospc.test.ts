/**
 * A real ENOSPC (not `max_page_count`): the store and the object folder on a 4 MiB tmpfs, mounted in
 * a user and mount namespace (`unshare -rm`), filled to the last byte, then given space back
 * (test/helpers/enospc-harness.ts). Skipped where unprivileged namespaces are not allowed.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { it } from 'node:test'

const HARNESS = fileURLToPath(new URL('./helpers/enospc-harness.js', import.meta.url))
const namespaces = spawnSync('unshare', ['-rm', 'true'], { timeout: 10_000 }).status === 0

it(
  'ENOSPC on a full tmpfs: store 503 OCTS.0505 and object folder OCTS.0506, both recover once space is freed',
  { skip: namespaces ? false : 'unshare -rm is not allowed here' },
  (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'opencts-enospc-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const run = spawnSync(
      'unshare',
      [
        '-rm',
        'sh',
        '-c',
        'mount -t tmpfs -o size=4m tmpfs "$1" && exec "$2" "$3" "$1"',
        'sh',
        dir,
        process.execPath,
        HARNESS,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    )
    assert.equal(run.status, 0, run.stderr)
    const result = JSON.parse(run.stdout) as Record<string, unknown>
    assert.equal(result.storeError, 'OCTS_ERR_STORAGE_FULL 503 30', JSON.stringify(result))
    assert.equal(result.storeFull, true)
    assert.match(String(result.probeWhileFull), /^OCTS_ERR_STORAGE_FULL/)
    assert.match(String(result.putError), /^OCTS_ERR_OBJECT_STORE_FULL 503/)
    assert.equal(result.sinkFull, true)
    assert.equal(result.storeRecovered, true)
    assert.equal(result.sinkRecovered, true)
  },
)
