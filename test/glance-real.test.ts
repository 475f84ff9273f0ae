/**
 * @module test/glance-real.test
 * Proves the real-Glance harness: a Debian glance-api on loopback (no Keystone), driven directly
 * by the real python-glanceclient through every image operation the recorder is to trace.
 * In CI (`CI` set) a missing Glance fails the test; elsewhere it is skipped with the reason.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { GLANCE_CLIENT_STEPS, runGlanceClient } from './helpers/glance-client.js'
import { glanceInstalled, startGlance } from './helpers/glance-server.js'

const skip =
  !glanceInstalled() && process.env.CI === undefined
    ? 'glance-api / python3-glanceclient not installed: run .ci/run'
    : false

void describe('real Glance harness', { skip }, () => {
  void it('python-glanceclient runs every image step against Glance', async (t) => {
    const glance = await startGlance(t)
    assert.match(glance.url, /^http:\/\/127\.0\.0\.1:\d+$/)

    const versions = await fetch(`${glance.url}/versions`)
    assert.equal(versions.status, 200)
    // Without the identity headers Glance (context middleware, no Keystone) refuses the request.
    const anonymous = await fetch(`${glance.url}/v2/images`)
    await anonymous.arrayBuffer()
    assert.equal(anonymous.status, 401)

    const run = await runGlanceClient({
      endpoint: glance.url,
      ownerHeaders: glance.headers,
      memberHeaders: glance.memberHeaders,
      name: 'opencts-harness-image',
      newName: 'opencts-harness-image-renamed',
      tag: 'opencts-harness-tag',
    })
    const why = `client output:\n${run.stdout}\n${run.stderr}\nglance log:\n${await glance.logTail()}`
    assert.equal(run.ok, true, why)
    assert.deepEqual(
      run.steps.map((s) => [s.step, s.ok]),
      [...GLANCE_CLIENT_STEPS.map((step) => [step, true]), ['done', true]],
      why,
    )

    const byStep = new Map(run.steps.map((s) => [s.step, s]))
    const created = byStep.get('create_image')
    const imageId = created?.image_id
    assert.ok(typeof imageId === 'string' && imageId.length > 0)
    for (const s of run.steps) assert.equal(s.image_id, imageId, `${s.step} image id`)
    assert.equal(created?.name, 'opencts-harness-image')
    assert.equal(created?.owner, glance.projectId)
    assert.equal(created?.visibility, 'shared')
    assert.equal(byStep.get('update_image')?.name, 'opencts-harness-image-renamed')
    assert.equal(byStep.get('upload_image')?.status, 'active')
    assert.deepEqual(byStep.get('add_tag')?.tags, ['opencts-harness-tag'])
    assert.deepEqual(byStep.get('delete_tag')?.tags, [])
    assert.equal(byStep.get('add_member')?.member_id, glance.memberProjectId)
    assert.equal(byStep.get('add_member')?.status, 'pending')
    assert.equal(byStep.get('update_member')?.status, 'accepted')
    assert.equal(byStep.get('update_member')?.project_id, glance.memberProjectId)
    assert.equal(byStep.get('delete_image')?.deleted, true)

    // The image is gone for its owner too, seen over plain HTTP.
    const gone = await fetch(`${glance.url}/v2/images/${imageId}`, { headers: glance.headers })
    await gone.arrayBuffer()
    assert.equal(gone.status, 404)
    const list = await fetch(`${glance.url}/v2/images`, { headers: glance.headers })
    const body = (await list.json()) as { images: { id: string }[] }
    assert.equal(list.status, 200)
    assert.deepEqual(
      body.images.map((image) => image.id),
      [],
    )

    // Glance's own access log saw the client's requests with the owner's identity.
    const log = await glance.logTail(200)
    assert.match(log, new RegExp(`"DELETE /v2/images/${imageId} HTTP/1.1" 204`))
    assert.match(log, new RegExp(`${glance.userId} ${glance.projectId}`))

    await glance.stop()
    await glance.stop() // idempotent
  })

  void it('members need a shared image, and only the member project accepts', async (t) => {
    const glance = await startGlance(t)
    const json = { ...glance.headers, 'Content-Type': 'application/json' }
    const create = await fetch(`${glance.url}/v2/images`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ name: 'quirk', visibility: 'private' }),
    })
    const image = (await create.json()) as { id: string; owner: string }
    assert.equal(create.status, 201)
    assert.equal(image.owner, glance.projectId)
    const member = JSON.stringify({ member: glance.memberProjectId })
    const members = `${glance.url}/v2/images/${image.id}/members`
    // A private image cannot have members: it must be shared first.
    const refused = await fetch(members, { method: 'POST', headers: json, body: member })
    await refused.arrayBuffer()
    assert.equal(refused.status, 403)
    const share = await fetch(`${glance.url}/v2/images/${image.id}`, {
      method: 'PATCH',
      headers: {
        ...glance.headers,
        'Content-Type': 'application/openstack-images-v2.1-json-patch',
      },
      body: JSON.stringify([{ op: 'replace', path: '/visibility', value: 'shared' }]),
    })
    await share.arrayBuffer()
    assert.equal(share.status, 200)
    const added = await fetch(members, { method: 'POST', headers: json, body: member })
    await added.arrayBuffer()
    assert.equal(added.status, 200)
    // Only the member project itself may accept; the owner gets 403.
    const accept = JSON.stringify({ status: 'accepted' })
    const byOwner = await fetch(`${members}/${glance.memberProjectId}`, {
      method: 'PUT',
      headers: json,
      body: accept,
    })
    await byOwner.arrayBuffer()
    assert.equal(byOwner.status, 403)
    const byMember = await fetch(`${members}/${glance.memberProjectId}`, {
      method: 'PUT',
      headers: { ...glance.memberHeaders, 'Content-Type': 'application/json' },
      body: accept,
    })
    await byMember.arrayBuffer()
    assert.equal(byMember.status, 200)
  })
})
