/**
 * End to end: an acknowledged batch survives a crash. Runs `opencts serve` as a child process,
 * posts a batch, SIGKILLs the server the moment the 201 arrives, restarts it on the same data
 * directory and finds every trace id of the batch again, three rounds in a row.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, it } from 'node:test'
import {
  adminProject,
  crash,
  killAllServers,
  serve,
  signedFetch,
} from './helpers/server-process.js'

async function getJson(url: string): Promise<{ status: number; body: any }> {
  const response = await signedFetch(url)
  return { status: response.status, body: await response.json() }
}

function batch(round: number, size: number): Record<string, unknown>[] {
  const now = Date.now()
  return Array.from({ length: size }, (_, i) => ({
    trace_id: randomUUID(),
    time: now - 1000 + (i % 500),
    service_type: 'IMS',
    resource_type: 'image',
    resource_id: `img-${round}-${i}`,
    resource_name: `image ${i}`,
    trace_name: 'createImage',
    trace_type: 'ApiCall',
    code: 200,
    request: { name: `image ${i}`, padding: 'x'.repeat(200) },
    user: { id: 'u1', name: 'alice', domain: { id: 'd1', name: 'acme' } },
  }))
}

const dir = mkdtempSync(join(tmpdir(), 'opencts-crash-'))

after(() => {
  killAllServers()
  rmSync(dir, { recursive: true, force: true })
})

it(
  'every trace acknowledged with 201 is there after a SIGKILL and a restart',
  { timeout: 120_000 },
  async () => {
    const dataDir = join(dir, 'data')
    const acknowledged: string[] = []
    for (let round = 0; round < 3; round++) {
      const server = await serve(dataDir)
      const traces = batch(round, 1000)
      const response = await signedFetch(`${server.url}/v3/${adminProject(dataDir)}/traces`, {
        method: 'POST',
        body: JSON.stringify({ traces }),
      })
      assert.equal(response.status, 201)
      const { trace_ids: ids } = (await response.json()) as { trace_ids: string[] }
      await crash(server)
      assert.deepEqual(
        ids,
        traces.map((t) => t.trace_id),
      )
      acknowledged.push(...ids)
    }

    const server = await serve(dataDir)
    try {
      const base = `${server.url}/v3/${adminProject(dataDir)}/traces`
      // Every id, one by one.
      for (const id of acknowledged) {
        const { status, body } = await getJson(`${base}?trace_id=${id}`)
        assert.equal(status, 200)
        assert.equal(body.traces.length, 1, `trace ${id} is missing after the crash`)
      }
      // And all of them by paging (the pages see exactly the acknowledged IMS traces).
      const paged = new Set<string>()
      let next: string | null = null
      const from = Date.now() - 600_000
      for (let page = 0; page < 100; page++) {
        const query: string = `service_type=IMS&limit=200&from=${from}${next === null ? '' : `&next=${next}`}`
        const { body } = await getJson(`${base}?${query}`)
        for (const t of body.traces as { trace_id: string }[]) paged.add(t.trace_id)
        next = body.meta_data.marker as string | null
        if (next === null) break
      }
      assert.equal(paged.size, acknowledged.length)
      for (const id of acknowledged) assert.ok(paged.has(id), id)
    } finally {
      await crash(server)
    }
  },
)
