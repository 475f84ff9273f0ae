/**
 * OCSF output against the schema's requirements for class API Activity (6003): the attributes
 * required and recommended by the class merged with base_event, and by the objects it uses, as
 * read from the ocsf/ocsf-schema repository (files and commits in docs/formats.md).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { ApiTrace } from '../model/index.js'
import { repoRoot } from '../../test/helpers/repo-root.js'
import { ocsfEvent } from './ocsf.js'

const traces = JSON.parse(
  readFileSync(join(repoRoot(), 'test', 'fixtures', 'formats', 'traces.json'), 'utf8'),
) as ApiTrace[]
const context = { projectId: 'p-0a1b2c', productVersion: '0.1.0' }
type Json = Record<string, unknown>

/** class 6003 + base_event, profiles aside. */
const REQUIRED = [
  'activity_id',
  'category_uid',
  'class_uid',
  'type_uid',
  'severity_id',
  'time',
  'metadata',
  'actor',
  'api',
  'src_endpoint',
]
/** Recommended ones written for every trace (docs/formats.md says why the others are not). */
const RECOMMENDED = ['message', 'status', 'status_id', 'timezone_offset', 'resources']
/** Enumerations of the dictionary and the class. */
const ACTIVITY_IDS = [0, 1, 2, 3, 4, 99]
const SEVERITY_IDS = [0, 1, 2, 3, 4, 5, 6, 99]
const STATUS_IDS = [0, 1, 2, 99]
const ENDPOINT_ANY = ['ip', 'uid', 'name', 'hostname', 'svc_name', 'instance_uid', 'domain']
const USER_ANY = ['account', 'name', 'uid']

const has = (o: unknown, key: string): boolean =>
  typeof o === 'object' && o !== null && (o as Json)[key] !== undefined

describe('OCSF API Activity events', () => {
  for (const trace of traces) {
    const event = ocsfEvent(trace, context) as Json
    it(`${trace.trace_name}: required and recommended attributes, enums, type_uid`, () => {
      for (const key of [...REQUIRED, ...RECOMMENDED]) assert.ok(has(event, key), key)
      assert.equal(event.class_uid, 6003)
      assert.equal(event.category_uid, 6)
      assert.ok(ACTIVITY_IDS.includes(event.activity_id as number))
      assert.ok(SEVERITY_IDS.includes(event.severity_id as number))
      assert.ok(STATUS_IDS.includes(event.status_id as number))
      assert.equal(event.type_uid, 6003 * 100 + (event.activity_id as number))
      assert.equal(typeof event.time, 'number')
      // status_code (recommended) is the trace's code, absent when it has none.
      assert.equal(event.status_code, trace.code)
    })
    it(`${trace.trace_name}: the objects' requirements and constraints`, () => {
      const metadata = event.metadata as Json
      assert.ok(has(metadata, 'version') && has(metadata, 'product'))
      for (const key of ['log_name', 'original_time', 'tenant_uid']) assert.ok(has(metadata, key))
      const product = metadata.product as Json
      for (const key of ['name', 'vendor_name', 'version']) assert.ok(has(product, key), key)
      const api = event.api as Json
      assert.ok(has(api, 'operation') && has(api, 'request') && has(api, 'response'))
      assert.ok(has(api.request, 'uid'), 'request.uid is required')
      const actor = event.actor as Json
      assert.ok(has(actor, 'user'), 'actor: at least one of process, user, …')
      assert.ok(
        USER_ANY.some((k) => has(actor.user, k)),
        'user: account, name or uid',
      )
      assert.ok(
        ENDPOINT_ANY.some((k) => has(event.src_endpoint, k)),
        'src_endpoint: one of …',
      )
      for (const resource of event.resources as Json[])
        assert.ok(has(resource, 'uid') || has(resource, 'name'), 'resource: uid or name')
      // The cloud profile is declared, so its required attribute is there.
      assert.deepEqual(metadata.profiles, ['cloud'])
      assert.ok(has(event.cloud, 'provider'))
    })
  }

  it('maps the activity from the trace name and the outcome from the code', () => {
    const base = traces[0] as ApiTrace
    const of = (patch: Partial<ApiTrace>): Json => ocsfEvent({ ...base, ...patch }, context)
    assert.equal(of({ trace_name: 'deleteImage' }).activity_id, 4)
    assert.equal(of({ trace_name: 'ListImages' }).activity_id, 2)
    assert.equal(of({ trace_name: 'updateImage' }).activity_id, 3)
    assert.equal(of({ trace_name: 'frobnicate' }).activity_id, 99)
    assert.equal(of({ trace_name: 'frobnicate', read_only: true }).activity_id, 2)
    assert.equal(of({ code: '500' }).status_id, 2)
    assert.equal(of({ code: '302' }).status_id, 1)
    const codeless: ApiTrace = { ...base }
    delete codeless.code
    assert.equal((ocsfEvent(codeless, context) as Json).status_id, 0)
    assert.equal(of({ trace_rating: 'incident' }).severity_id, 4)
  })
})
