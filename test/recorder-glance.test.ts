/**
 * The recorder in front of a real OpenStack Glance (Debian's glance-api on loopback, no Keystone),
 * driven by the real python-glanceclient through the proxy: create, rename, upload, tag add/delete,
 * member add/update/delete, delete. Glance behaves as without the proxy (every client step passes),
 * and each operation is found through the OpenCTS query API with the right trace name, resource id,
 * resource name, code and rating. Traces reach OpenCTS over HTTP, signed with an AK/SK.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it } from 'node:test'
import { DEFAULT_IDENTITY_HEADERS } from '../src/recorder/capture.js'
import { GLANCE_MAP } from '../src/recorder/index.js'
import { RecorderProxy } from '../src/recorder/recorder-proxy.js'
import { TraceReporter } from '../src/recorder/trace-reporter.js'
import { runGlanceClient } from './helpers/glance-client.js'
import {
  MEMBER_PROJECT_ID,
  OWNER_PROJECT_ID,
  glanceInstalled,
  startGlance,
} from './helpers/glance-server.js'
import { producerSender } from './helpers/producer-sender.js'
import { buildTestApp, call } from './helpers/test-app.js'

const skip =
  !glanceInstalled() && process.env.CI === undefined
    ? 'glance-api / python3-glanceclient not installed: run .ci/run'
    : false

interface Found {
  trace_name: string
  resource_id?: string
  resource_name?: string
  code?: string
  trace_rating: string
  user?: { id?: string; name?: string }
  service_type: string
  resource_type: string
}

void describe('recorder in front of a real Glance', { skip }, () => {
  void it('records every image operation of python-glanceclient, Glance unchanged', async (t) => {
    const glance = await startGlance(t)
    const cts = await buildTestApp(t, {}, { projects: [OWNER_PROJECT_ID, MEMBER_PROJECT_ID] })
    cts.clock.set(Date.now()) // Glance and the proxy run on real time
    const ctsUrl = await cts.app.listen({ port: 0, host: '127.0.0.1' })
    const reporter = new TraceReporter({ sender: producerSender(ctsUrl), flushMs: 20 })
    const proxy = new RecorderProxy({
      upstream: new URL(glance.url),
      maps: [GLANCE_MAP],
      reporter,
      identityHeaders: DEFAULT_IDENTITY_HEADERS,
      catchAll: null,
    })
    const server = createServer(proxy.handle)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.after(async () => {
      proxy.close()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    })
    const proxyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

    const run = await runGlanceClient({
      endpoint: proxyUrl,
      ownerHeaders: { ...glance.headers, 'X-User-Name': 'alice' },
      memberHeaders: { ...glance.memberHeaders, 'X-User-Name': 'bob' },
      name: 'recorded-image',
      newName: 'recorded-image-v2',
      tag: 'web tier',
    })
    assert.equal(run.ok, true, `client through the proxy:\n${run.stdout}\n${run.stderr}`)
    const imageId = run.steps.find((s) => s.step === 'create_image')?.image_id
    assert.ok(typeof imageId === 'string')

    // Wait (bounded) until the reporter has sent everything.
    for (let i = 0; i < 200 && reporter.stats().queued > 0; i++) await sleep(25)
    await reporter.close()
    const { droppedQueueFull, rejected, unsentAtClose } = reporter.stats()
    assert.deepEqual(
      { droppedQueueFull, rejected, unsentAtClose },
      {
        droppedQueueFull: 0,
        rejected: 0,
        unsentAtClose: 0,
      },
    )

    const traces = async (projectId: string): Promise<Found[]> => {
      const from = Date.now() - 600_000
      const to = Date.now() + 60_000
      const answer = await call(
        cts.app,
        'GET',
        `/v3/${projectId}/traces?service_type=IMS&limit=200&from=${from}&to=${to}`,
      )
      assert.equal(answer.status, 200, JSON.stringify(answer.body))
      return (answer.body.traces as Found[]).reverse()
    }
    const owner = await traces(OWNER_PROJECT_ID)
    const member = await traces(MEMBER_PROJECT_ID)
    const summary = (list: Found[]): string[][] =>
      list.map((x) => [
        x.trace_name,
        x.resource_id ?? '',
        x.resource_name ?? '',
        x.code ?? '',
        x.trace_rating,
      ])
    assert.deepEqual(
      summary(owner),
      [
        ['createImage', imageId, 'recorded-image', '201', 'normal'],
        ['updateImage', imageId, 'recorded-image-v2', '200', 'normal'],
        ['updateImage', imageId, 'recorded-image-v2', '204', 'normal'],
        ['addTag', imageId, 'recorded-image-v2', '204', 'normal'],
        ['deleteTag', imageId, 'recorded-image-v2', '204', 'normal'],
        ['addMember', imageId, 'recorded-image-v2', '200', 'normal'],
        ['deleteMember', imageId, 'recorded-image-v2', '204', 'normal'],
        ['deleteImage', imageId, 'recorded-image-v2', '204', 'normal'],
      ],
      JSON.stringify(owner, null, 1),
    )
    assert.deepEqual(summary(member), [
      ['updateMember', imageId, 'recorded-image-v2', '200', 'normal'],
    ])
    for (const x of owner) {
      assert.equal(x.service_type, 'IMS')
      assert.equal(x.resource_type, 'image')
      assert.equal(x.user?.name, 'alice')
    }
    assert.equal(member[0]?.user?.name, 'bob', "updateMember is the recipient project's call")
  })
})
