/**
 * The checkpointer in a real `opencts serve`: while traces keep arriving, a project gets a new
 * signed checkpoint at most once per second (OPENCTS_CHECKPOINT_INTERVAL_MS, default 1 000), the
 * latest follows the log within a couple of seconds, and after a restart the same key signs on
 * with checkpoints consistent with the earlier ones.
 */
import assert from 'node:assert/strict'
import { createPublicKey } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { verifyCheckpoint } from '../src/integrity/checkpoint.js'
import { verifyConsistency } from '../src/integrity/merkle.js'
import { reportedTrace } from './helpers/make-trace.js'
import { adminProject, killAllServers, serve, signedFetch } from './helpers/server-process.js'

after(killAllServers)

interface CheckpointBody {
  tree_size: number
  root_hash: string
  timestamp: number
  note: string
}

async function json<T>(response: Response): Promise<T> {
  assert.ok(response.ok, `${response.status} ${await response.clone().text()}`)
  return (await response.json()) as T
}

describe('checkpoints of a running server', () => {
  it('signs at most once per second while the log grows, and keeps its key across restarts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'opencts-log-server-'))
    let server = await serve(dataDir)
    const project = adminProject(dataDir)
    const base = `${server.url}/v3/${project}`
    const started = Date.now()
    // 12 batches over ~3 s.
    let last: { trace_ids: string[]; leaf_indexes: number[] } | undefined
    for (let i = 0; i < 12; i++) {
      const body = JSON.stringify({ traces: [reportedTrace(), reportedTrace()] })
      last = await json(await signedFetch(`${base}/traces`, { method: 'POST', body }))
      await sleep(250)
    }
    const lastIndex = Math.max(...(last?.leaf_indexes ?? []))
    // The latest checkpoint covers the last trace within a bounded wait.
    let latest: CheckpointBody | undefined
    for (let i = 0; i < 40; i++) {
      latest = (
        await json<{ checkpoint: CheckpointBody }>(await signedFetch(`${base}/log/checkpoint`))
      ).checkpoint
      if (latest.tree_size > lastIndex) break
      await sleep(100)
    }
    assert.ok(
      latest !== undefined && latest.tree_size > lastIndex,
      'the last trace is checkpointed',
    )
    const elapsed = Date.now() - started
    const { checkpoints } = await json<{ checkpoints: CheckpointBody[] }>(
      await signedFetch(`${base}/log/checkpoints?limit=1000`),
    )
    assert.ok(checkpoints.length >= 2, `several checkpoints while growing: ${checkpoints.length}`)
    assert.ok(
      checkpoints.length <= Math.ceil(elapsed / 1000) + 1,
      `${checkpoints.length} checkpoints in ${elapsed} ms: at most one per second`,
    )
    for (const [i, cp] of checkpoints.entries())
      if (i > 0) assert.ok(cp.timestamp - (checkpoints[i - 1]?.timestamp ?? 0) >= 900)

    const { keys } = await json<{ keys: { key_name: string; public_key: string }[] }>(
      await signedFetch(`${base}/log/keys`),
    )
    const [key] = keys
    assert.ok(key !== undefined)
    for (const cp of checkpoints)
      verifyCheckpoint(cp.note, key.key_name, createPublicKey(key.public_key), `opencts/${project}`)

    // Restart: same key, the log goes on from where it was, consistent with the old checkpoint.
    server.child.kill('SIGTERM')
    await new Promise((resolve) => server.child.once('exit', resolve))
    server = await serve(dataDir)
    const base2 = `${server.url}/v3/${project}`
    await json(
      await signedFetch(`${base2}/traces`, {
        method: 'POST',
        body: JSON.stringify({ traces: [reportedTrace()] }),
      }),
    )
    let next: CheckpointBody | undefined
    for (
      let i = 0;
      i < 40 && (next === undefined || next.tree_size <= (latest?.tree_size ?? 0));
      i++
    ) {
      await sleep(100)
      next = (
        await json<{ checkpoint: CheckpointBody }>(await signedFetch(`${base2}/log/checkpoint`))
      ).checkpoint
    }
    assert.ok(next !== undefined && latest !== undefined && next.tree_size > latest.tree_size)
    verifyCheckpoint(next.note, key.key_name, createPublicKey(key.public_key), `opencts/${project}`)
    const proof = await json<{ proof: string[] }>(
      await signedFetch(
        `${base2}/log/consistency-proof?first=${latest.tree_size}&second=${next.tree_size}`,
      ),
    )
    verifyConsistency(
      latest.tree_size,
      next.tree_size,
      proof.proof.map((h) => Buffer.from(h, 'hex')),
      Buffer.from(latest.root_hash, 'hex'),
      Buffer.from(next.root_hash, 'hex'),
    )
    const again = await json<{ keys: unknown[] }>(await signedFetch(`${base2}/log/keys`))
    assert.equal(again.keys.length, 1, 'no new key after a restart')
    server.child.kill('SIGTERM')
  })
})
