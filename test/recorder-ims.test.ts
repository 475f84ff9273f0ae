/**
 * The recorder in front of the IMS-native API. A local upstream answers as the IMS API reference
 * documents (spec ims-glance-auth §1.2–§1.4): the asynchronous routes answer `{"job_id"}` and their
 * job (`GET /v1/{project_id}/jobs/{job_id}`) is RUNNING once, then SUCCESS (or FAIL); the
 * synchronous and read-only routes answer like IMS; anything else is a 404.
 *
 * Every rule of the `ims` map is exercised through the proxy (the table is checked against
 * `IMS_MAP.routes`), and every trace is read back through the OpenCTS query API (sent over HTTP,
 * signed with an AK/SK): trace name, resource type, resource id and name, code, rating, the
 * SystemAction completion of each job, fan-out of the batch member calls. Then the failure modes:
 * upstream down (502, recorded as an incident), OpenCTS down (the API keeps answering, the traces
 * wait in the queue), and a full queue (drops counted and shown on `GET /_opencts/recorder`).
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it, type TestContext } from 'node:test'
import { producerSender } from './helpers/producer-sender.js'
import { DEFAULT_IDENTITY_HEADERS } from '../src/recorder/capture.js'
import { IMS_MAP, REDACTED, matchRoute, type RouteRule } from '../src/recorder/index.js'
import { RecorderProxy, STATS_PATH } from '../src/recorder/recorder-proxy.js'
import { TraceReporter, type TraceSender } from '../src/recorder/trace-reporter.js'
import { TEST_PROJECTS, buildTestApp, call } from './helpers/test-app.js'

const OWNER = TEST_PROJECTS[0]
const RECIPIENT = TEST_PROJECTS[1]
const ALPHA = '3f7185de-b59a-4bb8-aa1d-7a513528b0e9'
const BETA = '4ca46bf1-5c61-48ff-b4f3-0ad4e5e3ba90'
const GAMMA = '7d8c6f0a-2b1e-4c3d-9e8f-0a1b2c3d4e5f'
const DELTA = 'b5c3e1d2-8f4a-4b6c-9d7e-1f2a3b4c5d6e'
const MISSING = '00000000-0000-4000-8000-000000000000'
const SERVER = '877a2cda-ba63-4e1e-b95f-e67e48b6129a'
/** A job that ended before the test (for the read-only job routes). */
const SEED_JOB = 'ff80808288d41e1b018a0000aa000001'

const ALICE = {
  'x-user-id': '26e96eda18034ae9a44130bacb967b96',
  'x-user-name': 'alice',
  'x-user-domain-id': '1f9b9ba51f6b4061bd5c1736b28469f8',
  'x-user-domain-name': 'test',
  'x-project-id': OWNER,
}
const BOB = {
  'x-user-id': '5b3c1f0e9d8a4b7c6e5d4c3b2a190807',
  'x-user-name': 'bob',
  'x-user-domain-id': '1f9b9ba51f6b4061bd5c1736b28469f8',
  'x-user-domain-name': 'test',
  'x-project-id': RECIPIENT,
}

type Json = Record<string, any>

// ---------------------------------------------------------------------------------------------
// The IMS upstream

interface Job {
  readonly id: string
  readonly type: string
  readonly beginTime: string
  readonly entities: Json
  readonly fail?: { readonly code: string; readonly reason: string }
  polls: number
  /** The body once served as ended (SUCCESS or FAIL). */
  final?: Json
}

interface ImsUpstream {
  readonly url: string
  readonly images: Map<string, Json>
  readonly jobs: Map<string, Job>
  /** Jobs whose end has not been served yet. */
  running(): number
}

type Answer = readonly [number, unknown?]
type Handler = (params: readonly string[], body: any) => Answer

function imsError(status: number, code: string, message: string): Answer {
  return [status, { error: { code, message } }]
}

const bad = (message: string): Answer => imsError(400, 'IMG.0001', message)
const noImage = (id: string): Answer => imsError(404, 'IMG.0027', `The image ${id} does not exist.`)

function isNonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value !== ''
}

function stringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.length > 0 && value.every(isNonEmpty)
}

async function startIms(t: TestContext): Promise<ImsUpstream> {
  const images = new Map<string, Json>()
  const tags = new Map<string, Map<string, string>>()
  const jobs = new Map<string, Job>()
  const hex = (): string => randomBytes(16).toString('hex')
  const uuid = (): string => {
    const h = hex()
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20)}`
  }
  const addImage = (id: string, name: string, status = 'active'): string => {
    images.set(id, {
      id,
      name,
      status,
      visibility: 'private',
      owner: OWNER,
      __os_type: 'Linux',
      __platform: 'Ubuntu',
      __imagetype: 'private',
      min_disk: 40,
      min_ram: 0,
      file: `/v2/images/${id}/file`,
      self: `/v2/images/${id}`,
      schema: '/v2/schemas/image',
    })
    tags.set(id, new Map())
    return id
  }
  addImage(ALPHA, 'alpha')
  addImage(BETA, 'beta')
  addImage(GAMMA, 'gamma')
  addImage(DELTA, 'delta')
  const seedTime = new Date(Date.now() - 60_000).toISOString()
  jobs.set(SEED_JOB, {
    id: SEED_JOB,
    type: 'imsCreateImageByInstance',
    beginTime: seedTime,
    entities: { image_id: ALPHA, image_name: 'alpha' },
    polls: 1,
    final: {
      job_id: SEED_JOB,
      job_type: 'imsCreateImageByInstance',
      begin_time: seedTime,
      end_time: seedTime,
      status: 'SUCCESS',
      error_code: null,
      fail_reason: null,
      entities: { image_id: ALPHA, image_name: 'alpha' },
    },
  })

  const startJob = (type: string, entities: Json, fail?: Job['fail']): Answer => {
    const id = hex()
    jobs.set(id, {
      id,
      type,
      beginTime: new Date().toISOString(),
      entities,
      polls: 0,
      ...(fail === undefined ? {} : { fail }),
    })
    return [200, { job_id: id }]
  }
  /** A job that creates one image (registered at once, as IMS does with a `saving` record). */
  const createJob = (type: string, name: string): Answer =>
    startJob(type, { image_id: addImage(uuid(), name, 'saving'), image_name: name })
  const jobBody = (job: Job): Json => {
    job.polls++
    if (job.polls === 1)
      return {
        job_id: job.id,
        job_type: job.type,
        begin_time: job.beginTime,
        end_time: '',
        status: 'RUNNING',
        error_code: null,
        fail_reason: null,
        entities: {},
      }
    job.final ??= {
      job_id: job.id,
      job_type: job.type,
      begin_time: job.beginTime,
      end_time: new Date().toISOString(),
      status: job.fail === undefined ? 'SUCCESS' : 'FAIL',
      error_code: job.fail?.code ?? null,
      fail_reason: job.fail?.reason ?? null,
      entities: job.fail === undefined ? job.entities : {},
    }
    return job.final
  }
  const image = (id: string | undefined, then: (img: Json) => Answer): Answer => {
    const img = images.get(id ?? '')
    return img === undefined ? noImage(id ?? '') : then(img)
  }
  const imageTags = (id: string): Map<string, string> => tags.get(id) ?? new Map()

  const members =
    (type: string): Handler =>
    (_p, b) => {
      if (!stringList(b?.images)) return bad('images must be a non-empty list of image ids')
      const unknown = b.images.find((id: string) => !images.has(id))
      if (unknown !== undefined) return noImage(unknown)
      let projects: string[]
      if (type === 'imsUpdateImageMembersJob') {
        if (!isNonEmpty(b.project_id)) return bad('project_id is mandatory')
        if (b.status !== 'accepted' && b.status !== 'rejected')
          return bad('status must be accepted or rejected')
        projects = [b.project_id]
      } else {
        if (!stringList(b.projects)) return bad('projects must be a non-empty list')
        projects = b.projects
      }
      const results = (b.images as string[]).flatMap((image_id) =>
        projects.map((project_id) => ({ image_id, project_id, status: 'success' })),
      )
      return startJob(type, { results })
    }
  const create =
    (check: (b: any) => string | undefined, type: (b: any) => string): Handler =>
    (_p, b) => {
      if (!isNonEmpty(b?.name)) return bad('name is mandatory')
      const problem = check(b)
      if (problem !== undefined) return bad(problem)
      return createJob(type(b), b.name)
    }

  const routes: [string, RegExp, Handler][] = [
    [
      'POST',
      /^\/(?:v2|v2\.1)\/cloudimages\/action$/,
      (_p, b) => {
        if (!isNonEmpty(b?.name)) return bad('name is mandatory')
        if (isNonEmpty(b.instance_id) && Array.isArray(b.data_images) && b.data_images.length > 0) {
          // ECS → system image + data images: one sub-job per image.
          const subJob = (type: string, name: string): Json => {
            const image_id = addImage(uuid(), name, 'saving')
            const time = new Date().toISOString()
            return {
              status: 'SUCCESS',
              job_id: hex(),
              job_type: type,
              begin_time: time,
              end_time: time,
              error_code: null,
              fail_reason: null,
              entities: { image_id },
            }
          }
          return startJob('imsCreateImageByInstance', {
            sub_jobs_result: [
              subJob('imsCreateImageByInstance', b.name),
              ...(b.data_images as Json[]).map((d) =>
                subJob('imsCopyVolumeToImageJob', String(d.name)),
              ),
            ],
          })
        }
        if (isNonEmpty(b.instance_id)) return createJob('imsCreateImageByInstance', b.name)
        if (isNonEmpty(b.volume_id)) return createJob('imsVolumeCreateImageJob', b.name)
        if (!isNonEmpty(b.image_url)) return bad('instance_id, image_url or volume_id is mandatory')
        if (b.image_url.endsWith('missing.qcow2'))
          return startJob(
            'imsImportImageJob',
            {},
            {
              code: 'IMG.0020',
              reason: 'The image file does not exist in the OBS bucket.',
            },
          )
        return createJob('imsImportImageJob', b.name)
      },
    ],
    [
      'POST',
      /^\/(?:v2|v2\.1)\/cloudimages\/quickimport\/action$/,
      create(
        (b) => (isNonEmpty(b.image_url) ? undefined : 'image_url is mandatory'),
        (b) => (b.type === 'DataImage' ? 'imsImportDataImageJob' : 'imsImportImageJob'),
      ),
    ],
    [
      'POST',
      /^\/(?:v1|v2\.1)\/cloudimages\/dataimages\/action$/,
      create(
        (b) => (isNonEmpty(b.image_url) ? undefined : 'image_url is mandatory'),
        () => 'imsImportDataImageJob',
      ),
    ],
    [
      'POST',
      /^\/v1\/cloudimages\/wholeimages\/action$/,
      create(
        (b) =>
          isNonEmpty(b.instance_id) || isNonEmpty(b.backup_id)
            ? undefined
            : 'instance_id or backup_id is mandatory',
        (b) =>
          isNonEmpty(b.instance_id)
            ? 'imsCreateWholeImageByInstanceJob'
            : 'imsCreateWholeImageByBackupJob',
      ),
    ],
    [
      'PUT',
      /^\/v1\/cloudimages\/([^/]+)\/upload$/,
      ([id], b) =>
        image(id, (img) =>
          isNonEmpty(b?.image_url)
            ? startJob('imsNativeImportImageJob', { image_id: img.id })
            : bad('image_url is mandatory'),
        ),
    ],
    [
      'POST',
      /^\/(?:v1|v2\.1)\/cloudimages\/([^/]+)\/copy$/,
      ([id], b) =>
        image(id, () =>
          isNonEmpty(b?.name)
            ? createJob('imsCopyImageInRegionJob', b.name)
            : bad('name is mandatory'),
        ),
    ],
    [
      'POST',
      /^\/v1\/cloudimages\/([^/]+)\/cross_region_copy$/,
      ([id], b) =>
        image(id, () =>
          isNonEmpty(b?.name) && isNonEmpty(b.region) && isNonEmpty(b.project_name)
            ? startJob('imsCopyImageCrossRegionJob', {})
            : bad('name, region and project_name are mandatory'),
        ),
    ],
    [
      'POST',
      /^\/(?:v1|v2\.1)\/cloudimages\/([^/]+)\/file$/,
      ([id], b) =>
        image(id, (img) =>
          isNonEmpty(b?.bucket_url)
            ? startJob('imsNativeExportImageJob', { image_id: img.id })
            : bad('bucket_url is mandatory'),
        ),
    ],
    ['POST', /^\/v1\/cloudimages\/members$/, members('imsAddImageMembersJob')],
    ['PUT', /^\/v1\/cloudimages\/members$/, members('imsUpdateImageMembersJob')],
    ['DELETE', /^\/v1\/cloudimages\/members$/, members('imsDelImageMembersJob')],
    [
      'GET',
      /^\/v1\/([^/]+)\/jobs\/([^/]+)$/,
      ([, id]) => {
        const job = jobs.get(id ?? '')
        return job === undefined
          ? imsError(404, 'IMG.0068', `The job ${id} does not exist.`)
          : [200, jobBody(job)]
      },
    ],
    [
      'GET',
      /^\/v1\/cloudimages\/job\/([^/]+)$/,
      ([id]) => {
        const job = jobs.get(id ?? '')
        if (job === undefined) return imsError(404, 'IMG.0068', `The job ${id} does not exist.`)
        return [200, { ...(job.final ?? {}), entities: { process_percent: 1 } }]
      },
    ],
    [
      'PATCH',
      /^\/v2\/cloudimages\/([^/]+)$/,
      ([id], b) =>
        image(id, (img) => {
          if (!Array.isArray(b)) return bad('the body must be a JSON-Patch array')
          for (const op of b as Json[]) {
            if (op.op !== 'replace' || op.path !== '/name' || !isNonEmpty(op.value))
              return bad(`unsupported change ${JSON.stringify(op)}`)
            img.name = op.value
          }
          img.updated_at = new Date().toISOString()
          return [200, img]
        }),
    ],
    ['GET', /^\/v2\/images\/([^/]+)$/, ([id]) => image(id, (img) => [200, img])],
    [
      'POST',
      /^\/v2\/([^/]+)\/images\/resource_instances\/action$/,
      (_p, b) => {
        if (b?.action !== 'filter' && b?.action !== 'count')
          return bad('action must be filter or count')
        const resources = [...images.values()].map((img) => ({
          resource_id: img.id,
          resource_name: img.name,
          resource_detail: null,
          tags: [...imageTags(img.id as string)].map(([key, value]) => ({ key, value })),
        }))
        return [200, { resources, total_count: resources.length }]
      },
    ],
    [
      'POST',
      /^\/v2\/([^/]+)\/images\/([^/]+)\/tags$/,
      ([, id], b) =>
        image(id, (img) => {
          if (!isNonEmpty(b?.tag?.key)) return bad('tag.key is mandatory')
          imageTags(img.id as string).set(b.tag.key, String(b.tag.value ?? ''))
          return [204]
        }),
    ],
    [
      'POST',
      /^\/v2\/([^/]+)\/images\/([^/]+)\/tags\/action$/,
      ([, id], b) =>
        image(id, (img) => {
          if (b?.action !== 'create' && b?.action !== 'delete')
            return bad('action must be create or delete')
          if (!Array.isArray(b.tags)) return bad('tags is mandatory')
          const list = imageTags(img.id as string)
          for (const tag of b.tags as Json[]) {
            if (b.action === 'create') list.set(String(tag.key), String(tag.value ?? ''))
            else list.delete(String(tag.key))
          }
          return [204]
        }),
    ],
    [
      'DELETE',
      /^\/v2\/([^/]+)\/images\/([^/]+)\/tags\/([^/]+)$/,
      ([, id, key]) =>
        image(id, (img) =>
          imageTags(img.id as string).delete(key ?? '')
            ? [204]
            : imsError(404, 'IMG.0030', `The image has no tag ${key}.`),
        ),
    ],
    [
      'PUT',
      /^\/v1\/cloudimages\/tags$/,
      (_p, b) =>
        image(b?.image_id, (img) => {
          const [key, value] = isNonEmpty(b.tag)
            ? (b.tag as string).split('.', 2)
            : [b.image_tag?.key, b.image_tag?.value]
          if (!isNonEmpty(key)) return bad('tag or image_tag is mandatory')
          imageTags(img.id as string).set(key, String(value ?? ''))
          return [204]
        }),
    ],
    [
      'DELETE',
      /^\/v1\/([^/]+)\/cloudimages\/([^/]+)\/tags\/delete$/,
      ([, id]) =>
        image(id, (img) => {
          imageTags(img.id as string).clear()
          return [204]
        }),
    ],
    ['GET', /^\/v2\/cloudimages$/, () => [200, { images: [...images.values()] }]],
    [
      'GET',
      /^\/v1\/cloudimages\/quota$/,
      () => [
        200,
        {
          quotas: {
            resources: [{ type: 'image', used: images.size, quota: 100, min: 1, max: 100 }],
          },
        },
      ],
    ],
    [
      'GET',
      /^\/v1\/cloudimages\/os_version$/,
      () => [
        200,
        [
          {
            platform: 'Ubuntu',
            version_list: [
              {
                platform: 'Ubuntu',
                os_version_key: 'Ubuntu 22.04 server 64bit',
                os_version: 'Ubuntu 22.04 server 64bit',
                os_bit: 64,
                os_type: 'Linux',
              },
            ],
          },
        ],
      ],
    ],
    [
      'GET',
      /^\/v1\/cloudimages\/tags$/,
      () => [200, { tags: [...tags.values()].flatMap((m) => [...m].map(([k, v]) => `${k}.${v}`)) }],
    ],
    [
      'GET',
      /^\/v2\/([^/]+)\/images\/tags$/,
      () => {
        const byKey = new Map<string, Set<string>>()
        for (const m of tags.values())
          for (const [k, v] of m) byKey.set(k, (byKey.get(k) ?? new Set()).add(v))
        return [200, { tags: [...byKey].map(([key, values]) => ({ key, values: [...values] })) }]
      },
    ],
    [
      'GET',
      /^\/v2\/([^/]+)\/images\/([^/]+)\/tags$/,
      ([, id]) =>
        image(id, (img) => [
          200,
          { tags: [...imageTags(img.id as string)].map(([key, value]) => ({ key, value })) },
        ]),
    ],
  ]

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const raw = Buffer.concat(chunks).toString('utf8')
    const path = new URL(req.url ?? '/', 'http://ims.invalid').pathname
    let answer: Answer | undefined
    let body: unknown
    try {
      body = raw === '' ? undefined : JSON.parse(raw)
    } catch {
      answer = bad('The request body is not JSON.')
    }
    for (const [method, pattern, handler] of routes) {
      if (answer !== undefined) break
      const m = req.method === method ? pattern.exec(path) : null
      if (m !== null) answer = handler(m.slice(1).map(decodeURIComponent), body)
    }
    // What the API gateway in front of IMS answers for a route it does not know.
    answer ??= imsError(404, 'APIGW.0101', 'The API does not exist or has not been published.')
    const [status, payload] = answer
    if (payload === undefined) res.writeHead(status).end()
    else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload))
  }
  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    images,
    jobs,
    running: () => [...jobs.values()].filter((j) => j.final === undefined).length,
  }
}

// ---------------------------------------------------------------------------------------------
// OpenCTS, the proxy, the client

interface Found {
  trace_name: string
  trace_type: string
  trace_rating: string
  service_type: string
  resource_type: string
  resource_id?: string
  resource_name?: string
  code?: string
  request?: string
  response?: string
  message?: string
  request_id?: string
  source_ip?: string
  user?: { id?: string; name?: string }
}

interface Cts {
  readonly sender: TraceSender
  /** Every IMS trace of a project, from the query API. */
  traces(projectId: string): Promise<Found[]>
}

async function startCts(t: TestContext): Promise<Cts> {
  const cts = await buildTestApp(t)
  cts.clock.set(Date.now()) // the proxy and the upstream run on real time
  const ctsUrl = await cts.app.listen({ port: 0, host: '127.0.0.1' })
  return {
    sender: producerSender(ctsUrl),
    traces: async (projectId) => {
      const from = Date.now() - 600_000
      const to = Date.now() + 60_000
      const answer = await call(
        cts.app,
        'GET',
        `/v3/${projectId}/traces?service_type=IMS&limit=200&from=${from}&to=${to}`,
      )
      assert.equal(answer.status, 200, JSON.stringify(answer.body))
      assert.equal(answer.body.meta_data?.marker ?? undefined, undefined, 'more than one page')
      return answer.body.traces as Found[]
    },
  }
}

interface Proxy {
  readonly url: string
  readonly proxy: RecorderProxy
  readonly stats: () => { recorded: number; upstreamErrors: number; jobsPolled: number }
}

async function startProxy(
  t: TestContext,
  upstream: string,
  reporter: TraceReporter,
): Promise<Proxy> {
  const proxy = new RecorderProxy({
    upstream: new URL(upstream),
    maps: [IMS_MAP],
    reporter,
    identityHeaders: DEFAULT_IDENTITY_HEADERS,
    catchAll: null,
    jobPollMs: 20,
    jobMaxMs: 10_000,
  })
  const server = createServer(proxy.handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(async () => {
    proxy.close()
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    proxy,
    stats: () => proxy.stats() as ReturnType<Proxy['stats']>,
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

interface Sent {
  readonly status: number
  readonly body: any
  readonly contentType: string
  readonly ms: number
}

/** One request (JSON body when given), answered within 5 s or failed. */
async function send(
  base: string,
  method: Method,
  path: string,
  body?: unknown,
  headers: Readonly<Record<string, string>> = {},
): Promise<Sent> {
  const started = Date.now()
  const response = await fetch(base + path, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(5000),
  })
  const text = await response.text()
  const contentType = response.headers.get('content-type') ?? ''
  return {
    status: response.status,
    body: contentType.includes('json') && text !== '' ? JSON.parse(text) : text,
    contentType,
    ms: Date.now() - started,
  }
}

/** Waits (at most `ms`) until `done()`; true if it happened. */
async function until(done: () => boolean, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!done()) {
    if (Date.now() > deadline) return false
    await sleep(10)
  }
  return true
}

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** trace_name, resource_id, resource_name, code, rating. */
type Row = readonly [string, string, string, string, string]

/** A row rated normal. */
function ok(name: string, id: string, resourceName: string, code = '200'): Row {
  return [name, id, resourceName, code, 'normal']
}

function rowOf(x: Found): Row {
  return [x.trace_name, x.resource_id ?? '', x.resource_name ?? '', x.code ?? '', x.trace_rating]
}

function sorted(rows: readonly Row[]): Row[] {
  return [...rows].sort((a, b) => a.join('\t').localeCompare(b.join('\t')))
}

// ---------------------------------------------------------------------------------------------
// The table: one or more requests per rule of the ims map

interface Case {
  readonly method: Method
  readonly path: string
  readonly body?: unknown
  /** Identity headers; ALICE (owner project) unless told. */
  readonly as?: Readonly<Record<string, string>>
  readonly status: number
  /** The request-time traces; none for read-only routes. */
  readonly traces: readonly Row[]
  /** The completion traces of the async job, from its final body. */
  readonly completion?: (job: Json) => readonly Row[]
  /** Further checks of the request-time traces. */
  readonly check?: (traces: readonly Found[], answer: Sent) => void
}

const subImages = (job: Json): string[] =>
  (job.entities.sub_jobs_result as Json[]).map((s) => s.entities.image_id as string)

const CASES: readonly Case[] = [
  // createImage: every create route; the completion names the new image.
  {
    method: 'POST',
    path: '/v2/cloudimages/action',
    body: { name: 'web-server', description: 'from ECS', instance_id: SERVER, tags: ['aaa.111'] },
    status: 200,
    traces: [ok('createImage', '', 'web-server')],
    completion: (job) => [ok('createImage', job.entities.image_id, 'web-server')],
  },
  {
    method: 'POST',
    path: '/v2/cloudimages/action',
    body: {
      name: 'sys-and-data',
      instance_id: SERVER,
      data_images: [
        { name: 'data-1', volume_id: 'c5f0b1a2-0000-4000-8000-000000000001' },
        { name: 'data-2', volume_id: 'c5f0b1a2-0000-4000-8000-000000000002' },
      ],
    },
    status: 200,
    traces: [ok('createImage', '', 'sys-and-data')],
    completion: (job) => {
      assert.equal(subImages(job).length, 3, 'a system image and two data images')
      return subImages(job).map((id) => ok('createImage', id, 'sys-and-data'))
    },
  },
  {
    method: 'POST',
    path: '/v2/cloudimages/action',
    body: {
      name: 'broken-image',
      image_url: 'ims-bucket:missing.qcow2',
      os_version: 'Ubuntu 22.04 server 64bit',
      min_disk: 40,
    },
    status: 200,
    traces: [ok('createImage', '', 'broken-image')],
    completion: (job) => {
      assert.equal(job.status, 'FAIL')
      return [['createImage', '', 'broken-image', '200', 'warning']]
    },
  },
  {
    method: 'POST',
    path: '/v2.1/cloudimages/action',
    body: {
      name: 'safe-mode',
      image_url: 'ims-bucket:centos7.qcow2',
      os_version: 'CentOS 7.9 64bit',
      min_disk: 40,
    },
    status: 200,
    traces: [ok('createImage', '', 'safe-mode')],
    completion: (job) => [ok('createImage', job.entities.image_id, 'safe-mode')],
  },
  {
    method: 'POST',
    path: '/v2/cloudimages/quickimport/action',
    body: {
      name: 'quick-sys',
      image_url: 'ims-bucket:big.zvhd2',
      os_version: 'Ubuntu 22.04 server 64bit',
      min_disk: 40,
      type: 'ECS',
    },
    status: 200,
    traces: [ok('createImage', '', 'quick-sys')],
    completion: (job) => [ok('createImage', job.entities.image_id, 'quick-sys')],
  },
  {
    method: 'POST',
    path: '/v2.1/cloudimages/quickimport/action',
    body: {
      name: 'quick-data',
      image_url: 'ims-bucket:data.raw',
      min_disk: 100,
      type: 'DataImage',
    },
    status: 200,
    traces: [ok('createImage', '', 'quick-data')],
    completion: (job) => [ok('createImage', job.entities.image_id, 'quick-data')],
  },
  {
    method: 'POST',
    path: '/v1/cloudimages/dataimages/action',
    body: {
      name: 'data-import',
      image_url: 'ims-bucket:data.qcow2',
      os_type: 'Linux',
      min_disk: 40,
      cmk_id: 'kms-key-0001',
    },
    status: 200,
    traces: [ok('createImage', '', 'data-import')],
    completion: (job) => [ok('createImage', job.entities.image_id, 'data-import')],
    check: ([x]) => {
      const request = JSON.parse(x?.request ?? '{}')
      assert.equal(request.cmk_id, REDACTED, 'the ims map redacts cmk_id')
      assert.equal(request.image_url, 'ims-bucket:data.qcow2')
    },
  },
  {
    method: 'POST',
    path: '/v2.1/cloudimages/dataimages/action',
    body: {
      name: 'data-import-2',
      image_url: 'ims-bucket:data2.qcow2',
      os_type: 'Linux',
      min_disk: 40,
    },
    status: 200,
    traces: [ok('createImage', '', 'data-import-2')],
    completion: (job) => [ok('createImage', job.entities.image_id, 'data-import-2')],
  },
  {
    method: 'POST',
    path: '/v1/cloudimages/wholeimages/action',
    body: {
      name: 'whole-ecs',
      instance_id: SERVER,
      vault_id: '6b4b1a5e-0000-4000-8000-000000000009',
    },
    status: 200,
    traces: [ok('createImage', '', 'whole-ecs')],
    completion: (job) => [ok('createImage', job.entities.image_id, 'whole-ecs')],
  },
  // Register an OBS file into an existing image record: the image is the path's.
  {
    method: 'PUT',
    path: `/v1/cloudimages/${ALPHA}/upload`,
    body: { image_url: 'ims-bucket:Centos6.5-disk1.vmdk' },
    status: 200,
    traces: [ok('createImage', ALPHA, 'alpha')],
    completion: () => [ok('createImage', ALPHA, 'alpha')],
  },
  // updateImage: the name comes from the answer; an unknown image is a 404 (warning).
  {
    method: 'PATCH',
    path: `/v2/cloudimages/${DELTA}`,
    body: [{ op: 'replace', path: '/name', value: 'delta-v2' }],
    status: 200,
    traces: [ok('updateImage', DELTA, 'delta-v2')],
    check: ([x], answer) => {
      assert.equal(answer.body.name, 'delta-v2')
      assert.deepEqual(JSON.parse(x?.response ?? '{}'), answer.body)
    },
  },
  {
    method: 'PATCH',
    path: `/v2/cloudimages/${MISSING}`,
    body: [{ op: 'replace', path: '/name', value: 'nope' }],
    status: 404,
    traces: [['updateImage', MISSING, '', '404', 'warning']],
  },
  // copyImage: the request trace is the source image, the completion the new one.
  {
    method: 'POST',
    path: `/v1/cloudimages/${ALPHA}/copy`,
    body: { name: 'alpha-copy', description: 'copy of alpha' },
    status: 200,
    traces: [ok('copyImage', ALPHA, 'alpha-copy')],
    completion: (job) => {
      assert.notEqual(job.entities.image_id, ALPHA)
      return [ok('copyImage', job.entities.image_id, 'alpha-copy')]
    },
  },
  {
    method: 'POST',
    path: `/v2.1/cloudimages/${BETA}/copy`,
    body: { name: 'beta-copy' },
    status: 200,
    traces: [ok('copyImage', BETA, 'beta-copy')],
    completion: (job) => {
      assert.notEqual(job.entities.image_id, BETA)
      return [ok('copyImage', job.entities.image_id, 'beta-copy')]
    },
  },
  {
    method: 'POST',
    path: `/v1/cloudimages/${ALPHA}/copy`,
    body: { description: 'no name' },
    status: 400,
    traces: [['copyImage', ALPHA, '', '400', 'warning']],
  },
  {
    method: 'POST',
    path: `/v1/cloudimages/${ALPHA}/cross_region_copy`,
    body: { name: 'alpha-eu', region: 'eu-nl', project_name: 'eu-nl', agency_name: 'ims_agency' },
    status: 200,
    traces: [ok('copyImage', ALPHA, 'alpha')],
    completion: () => [ok('copyImage', ALPHA, 'alpha')],
    check: ([x]) => assert.match(x?.message ?? '', /region=eu-nl/),
  },
  // exportImage
  {
    method: 'POST',
    path: `/v1/cloudimages/${BETA}/file`,
    body: { bucket_url: 'ims-image:beta.qcow2', file_format: 'qcow2', is_quick_export: false },
    status: 200,
    traces: [ok('exportImage', BETA, 'beta')],
    completion: () => [ok('exportImage', BETA, 'beta')],
    check: ([x]) => assert.match(x?.message ?? '', /bucket_url=ims-image:beta\.qcow2/),
  },
  {
    method: 'POST',
    path: `/v2.1/cloudimages/${GAMMA}/file`,
    body: { bucket_url: 'ims-image:gamma.vhd', file_format: 'vhd' },
    status: 200,
    traces: [ok('exportImage', GAMMA, 'gamma')],
    completion: () => [ok('exportImage', GAMMA, 'gamma')],
  },
  // Batch members: one trace per image, at request time and at completion.
  {
    method: 'POST',
    path: '/v1/cloudimages/members',
    body: { images: [ALPHA, BETA, GAMMA], projects: [RECIPIENT] },
    status: 200,
    traces: [ok('addMember', ALPHA, ''), ok('addMember', BETA, ''), ok('addMember', GAMMA, '')],
    completion: () => [
      ok('addMember', ALPHA, ''),
      ok('addMember', BETA, ''),
      ok('addMember', GAMMA, ''),
    ],
  },
  {
    // Called by the recipient project (spec §1.5): its traces are the recipient's.
    method: 'PUT',
    path: '/v1/cloudimages/members',
    as: BOB,
    body: { images: [ALPHA, BETA], project_id: RECIPIENT, status: 'accepted' },
    status: 200,
    traces: [ok('updateMember', ALPHA, ''), ok('updateMember', BETA, '')],
    completion: () => [ok('updateMember', ALPHA, ''), ok('updateMember', BETA, '')],
  },
  {
    // A JSON body on DELETE: the upstream answers 400 if the proxy does not forward it.
    method: 'DELETE',
    path: '/v1/cloudimages/members',
    body: { images: [ALPHA, BETA, GAMMA], projects: [RECIPIENT] },
    status: 200,
    traces: [
      ok('deleteMember', ALPHA, ''),
      ok('deleteMember', BETA, ''),
      ok('deleteMember', GAMMA, ''),
    ],
    completion: () => [
      ok('deleteMember', ALPHA, ''),
      ok('deleteMember', BETA, ''),
      ok('deleteMember', GAMMA, ''),
    ],
  },
  // IMS tags: names from the lookup (GET /v2/images/{id}) where the rule has one.
  {
    method: 'POST',
    path: `/v2/${OWNER}/images/${ALPHA}/tags`,
    body: { tag: { key: 'env', value: 'prod' } },
    status: 204,
    traces: [ok('addTag', ALPHA, 'alpha', '204')],
    check: ([x]) => assert.match(x?.message ?? '', /tag_key=env/),
  },
  {
    method: 'POST',
    path: `/v2/${OWNER}/images/${ALPHA}/tags/action`,
    body: { action: 'create', tags: [{ key: 'tier', value: 'web' }] },
    status: 204,
    traces: [ok('addTag', ALPHA, 'alpha', '204')],
  },
  {
    method: 'POST',
    path: `/v2/${OWNER}/images/${ALPHA}/tags/action`,
    body: { action: 'delete', tags: [{ key: 'tier', value: 'web' }] },
    status: 204,
    traces: [ok('deleteTag', ALPHA, 'alpha', '204')],
  },
  {
    method: 'DELETE',
    path: `/v2/${OWNER}/images/${ALPHA}/tags/env`,
    status: 204,
    traces: [ok('deleteTag', ALPHA, 'alpha', '204')],
  },
  {
    method: 'PUT',
    path: '/v1/cloudimages/tags',
    body: { image_id: BETA, tag: 'owner.alice' },
    status: 204,
    traces: [ok('addTag', BETA, '', '204')],
    check: ([x]) => assert.match(x?.message ?? '', /tag=owner\.alice/),
  },
  {
    method: 'DELETE',
    path: `/v1/${OWNER}/cloudimages/${BETA}/tags/delete`,
    status: 204,
    traces: [ok('deleteTag', BETA, 'beta', '204')],
  },
  // Read-only routes: answered, never recorded.
  { method: 'GET', path: '/v2/cloudimages', status: 200, traces: [] },
  { method: 'GET', path: '/v1/cloudimages/quota', status: 200, traces: [] },
  { method: 'GET', path: '/v1/cloudimages/os_version', status: 200, traces: [] },
  { method: 'GET', path: '/v1/cloudimages/tags', status: 200, traces: [] },
  { method: 'GET', path: `/v2/${OWNER}/images/tags`, status: 200, traces: [] },
  { method: 'GET', path: `/v2/${OWNER}/images/${ALPHA}/tags`, status: 200, traces: [] },
  { method: 'GET', path: `/v1/${OWNER}/jobs/${SEED_JOB}`, status: 200, traces: [] },
  { method: 'GET', path: `/v1/cloudimages/job/${SEED_JOB}`, status: 200, traces: [] },
  {
    method: 'POST',
    path: `/v2/${OWNER}/images/resource_instances/action`,
    body: { action: 'filter', tags: [{ key: 'env', values: ['prod'] }] },
    status: 200,
    traces: [],
  },
  // Not an IMS route: the upstream's 404, and nothing recorded (no catch-all).
  { method: 'POST', path: '/v1/cloudimages/unknown/action', body: {}, status: 404, traces: [] },
]

// ---------------------------------------------------------------------------------------------

void describe('recorder in front of the IMS-native API', () => {
  void it('the table exercises every rule of the ims map', () => {
    const exercised = new Set<RouteRule>()
    for (const c of CASES) {
      const rule = matchRoute([IMS_MAP], c.method, c.path)?.rule
      if (rule === undefined) {
        assert.equal(c.traces.length, 0, `${c.method} ${c.path} is unmapped: no trace`)
        continue
      }
      exercised.add(rule)
      assert.equal(
        rule.read_only === true,
        c.traces.length === 0,
        `${c.method} ${c.path}: traces expected iff the rule is not read-only`,
      )
      assert.equal(
        rule.async_job !== undefined && c.status < 300,
        c.completion !== undefined,
        `${c.method} ${c.path}: a completion expected iff a job is started`,
      )
    }
    for (const rule of IMS_MAP.routes)
      assert.ok(exercised.has(rule), `no request exercises ${rule.method} ${rule.path}`)
  })

  void it('records every IMS route: names, resources, codes, ratings, jobs, fan-out', async (t) => {
    const ims = await startIms(t)
    const cts = await startCts(t)
    const reporter = new TraceReporter({ sender: cts.sender, flushMs: 20 })
    const { url, stats } = await startProxy(t, ims.url, reporter)

    const answers: Sent[] = []
    for (const [i, c] of CASES.entries()) {
      const headers = { ...(c.as ?? ALICE), 'x-request-id': `ims-case-${i}` }
      const answer = await send(url, c.method, c.path, c.body, headers)
      assert.equal(answer.status, c.status, `${c.method} ${c.path}: ${JSON.stringify(answer.body)}`)
      answers.push(answer)
    }

    const jobOf = (i: number): Job | undefined => {
      const id = answers[i]?.body?.job_id
      return typeof id === 'string' ? ims.jobs.get(id) : undefined
    }
    const expected = (): number =>
      CASES.reduce((n, c, i) => {
        const final = jobOf(i)?.final
        const done =
          c.completion === undefined ? 0 : final === undefined ? 1 : c.completion(final).length
        return n + c.traces.length + done
      }, 0)
    // Bounded: every job ended, every trace recorded and delivered.
    await until(
      () =>
        ims.running() === 0 &&
        stats().recorded >= expected() &&
        reporter.stats().queued === 0 &&
        reporter.stats().sent >= stats().recorded,
    )
    assert.equal(ims.running(), 0, 'every job was polled to its end')
    assert.deepEqual(
      { recorded: stats().recorded, sent: reporter.stats().sent, queued: reporter.stats().queued },
      { recorded: expected(), sent: expected(), queued: 0 },
    )
    await reporter.close()

    const owner = await cts.traces(OWNER)
    const recipient = await cts.traces(RECIPIENT)
    const all = [...owner, ...recipient]
    assert.equal(all.length, expected(), 'no trace but the expected ones (none for reads)')

    for (const [i, c] of CASES.entries()) {
      const label = `${c.method} ${c.path} (case ${i})`
      const answer = answers[i] as Sent
      const identity = c.as ?? ALICE
      const project = identity['x-project-id']
      const got = all.filter((x) => x.request_id === `ims-case-${i}`)
      assert.deepEqual(sorted(got.map(rowOf)), sorted(c.traces), label)
      const inProject = project === OWNER ? owner : recipient
      for (const x of got) {
        assert.ok(inProject.includes(x), `${label}: reported to the caller's project`)
        assert.equal(x.service_type, 'IMS', label)
        assert.equal(x.resource_type, 'image', label)
        assert.equal(x.trace_type, 'ApiCall', label)
        assert.equal(x.user?.name, identity['x-user-name'], label)
        assert.equal(x.source_ip, '127.0.0.1', label)
      }
      c.check?.(got, answer)
      if (c.completion === undefined) continue

      // The async job: request trace with the job id, then the SystemAction completion.
      const job = jobOf(i)
      assert.ok(job?.final !== undefined, `${label}: the job ended`)
      const final = job.final
      for (const x of got) {
        assert.deepEqual(JSON.parse(x.response ?? ''), { job_id: job.id }, label)
        assert.match(x.message ?? '', new RegExp(`job_id=${job.id}`), label)
      }
      const done = all.filter((x) => x.request_id === job.id)
      assert.deepEqual(sorted(done.map(rowOf)), sorted(c.completion(final)), `${label} completion`)
      for (const x of done) {
        assert.ok(inProject.includes(x), `${label}: completion in the caller's project`)
        assert.equal(x.trace_type, 'SystemAction', label)
        assert.equal(x.source_ip ?? '', '', label)
        assert.equal(x.resource_type, 'image', label)
        assert.deepEqual(JSON.parse(x.response ?? ''), final, `${label}: the job is the response`)
        assert.match(x.message ?? '', new RegExp(`status=${String(final.status)}`), label)
        const id = x.resource_id
        if (id !== undefined) assert.ok(ims.images.has(id), `${label}: ${id} is a known image`)
      }
    }

    // Fan-out, spelled out: the batch addMember is 3 traces, and its completion 3 more.
    const addMember = CASES.findIndex((c) => c.method === 'POST' && c.path.endsWith('/members'))
    const jobId = answers[addMember]?.body.job_id as string
    const members = owner.filter((x) => x.trace_name === 'addMember')
    assert.deepEqual(
      members
        .filter((x) => x.trace_type === 'ApiCall')
        .map((x) => x.resource_id)
        .sort(),
      [ALPHA, BETA, GAMMA].sort(),
    )
    assert.deepEqual(
      members
        .filter((x) => x.request_id === jobId)
        .map((x) => x.resource_id)
        .sort(),
      [ALPHA, BETA, GAMMA].sort(),
    )
    // The failed job: the completion is a warning that says why.
    const failed = owner.find(
      (x) => x.trace_type === 'SystemAction' && x.trace_rating === 'warning',
    )
    assert.match(failed?.message ?? '', /error_code=IMG\.0020/)
    assert.match(failed?.message ?? '', /fail_reason=The image file does not exist/)
  })

  void it('upstream down: 502 with a JSON error, recorded as an incident', async (t) => {
    const cts = await startCts(t)
    const reporter = new TraceReporter({ sender: cts.sender, flushMs: 20 })
    const port = await closedPort()
    const { url, stats } = await startProxy(t, `http://127.0.0.1:${port}`, reporter)

    const patch = await send(
      url,
      'PATCH',
      `/v2/cloudimages/${ALPHA}`,
      [{ op: 'replace', path: '/name', value: 'renamed' }],
      ALICE,
    )
    const create = await send(
      url,
      'POST',
      '/v2/cloudimages/action',
      {
        name: 'web-server',
        instance_id: SERVER,
      },
      ALICE,
    )
    for (const answer of [patch, create]) {
      assert.equal(answer.status, 502)
      assert.match(answer.contentType, /^application\/json/)
      assert.equal(answer.body.error_code, 'OCTS.0502')
      assert.match(answer.body.error_msg, /cannot be reached/)
    }
    await until(() => reporter.stats().sent >= 2 && reporter.stats().queued === 0)
    await reporter.close()
    const found = await cts.traces(OWNER)
    assert.deepEqual(
      sorted(found.map(rowOf)),
      sorted([
        ['updateImage', ALPHA, '', '502', 'incident'],
        ['createImage', '', 'web-server', '502', 'incident'],
      ]),
    )
    assert.ok(found.every((x) => x.trace_type === 'ApiCall' && x.user?.name === 'alice'))
    assert.equal(stats().upstreamErrors, 2)
    assert.equal(stats().jobsPolled, 0, 'a failed call starts no job')
  })

  void it('OpenCTS down: the API answers as usual and the traces wait in the queue', async (t) => {
    const ims = await startIms(t)
    let down = true
    const received: Record<string, unknown>[] = []
    const reporter = new TraceReporter({
      sender: {
        send: async (_projectId, traces) => {
          if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:8088 (OpenCTS down)')
          received.push(...traces)
        },
      },
      flushMs: 20,
      maxQueued: 100,
    })
    const { url, stats } = await startProxy(t, ims.url, reporter)

    const patch = await send(
      url,
      'PATCH',
      `/v2/cloudimages/${DELTA}`,
      [{ op: 'replace', path: '/name', value: 'delta-renamed' }],
      ALICE,
    )
    assert.equal(patch.status, 200)
    assert.deepEqual(patch.body, ims.images.get(DELTA))
    const tag = await send(
      url,
      'POST',
      `/v2/${OWNER}/images/${ALPHA}/tags`,
      {
        tag: { key: 'env', value: 'dev' },
      },
      ALICE,
    )
    assert.equal(tag.status, 204)
    const share = await send(
      url,
      'POST',
      '/v1/cloudimages/members',
      {
        images: [ALPHA, BETA, GAMMA],
        projects: [RECIPIENT],
      },
      ALICE,
    )
    assert.equal(share.status, 200)
    assert.match(share.body.job_id, /^[0-9a-f]{32}$/)
    for (const answer of [patch, tag, share]) assert.ok(answer.ms < 2000, 'never blocked')

    // 1 + 1 + 3 request traces and 3 completion traces, all kept while OpenCTS is down.
    await until(() => stats().recorded >= 8 && reporter.stats().failedAttempts > 0)
    assert.equal(stats().recorded, 8)
    const before = reporter.stats()
    assert.ok(before.failedAttempts > 0)
    assert.deepEqual(
      { ...before, failedAttempts: 0 },
      {
        queued: 8,
        sent: 0,
        droppedQueueFull: 0,
        rejected: 0,
        held: 0,
        deadLettered: 0,
        droppedHeldFull: 0,
        unsentAtClose: 0,
        failedAttempts: 0,
      },
    )

    // OpenCTS is back: the retry delivers everything.
    down = false
    await until(() => reporter.stats().sent >= 8, 5000)
    assert.equal(reporter.stats().sent, 8)
    assert.equal(reporter.stats().queued, 0)
    assert.deepEqual(received.map((x) => x.trace_name).sort(), [
      'addMember',
      'addMember',
      'addMember',
      'addMember',
      'addMember',
      'addMember',
      'addTag',
      'updateImage',
    ])
    await reporter.close()
  })

  for (const mode of ['hanging', 'failing'] as const) {
    void it(`a full queue (sender ${mode}): drops are counted and shown on ${STATS_PATH}`, async (t) => {
      const ims = await startIms(t)
      const sender: TraceSender = {
        send: () =>
          mode === 'hanging'
            ? new Promise<void>(() => undefined)
            : Promise.reject(new Error('503 Service Unavailable')),
      }
      const reporter = new TraceReporter({ sender, flushMs: 20, maxQueued: 2 })
      const { url, stats } = await startProxy(t, ims.url, reporter)

      for (let n = 1; n <= 5; n++) {
        const answer = await send(
          url,
          'PATCH',
          `/v2/cloudimages/${GAMMA}`,
          [{ op: 'replace', path: '/name', value: `gamma-${n}` }],
          ALICE,
        )
        assert.equal(answer.status, 200)
        assert.equal(answer.body.name, `gamma-${n}`)
        assert.ok(answer.ms < 2000, 'never blocked')
      }
      await until(() => stats().recorded >= 5)
      const answer = await send(url, 'GET', STATS_PATH)
      assert.equal(answer.status, 200)
      assert.match(answer.contentType, /^application\/json/)
      assert.equal(answer.body.recorded, 5)
      assert.equal(answer.body.reporter.queued, 2)
      assert.equal(answer.body.reporter.droppedQueueFull, 3)
      assert.equal(answer.body.reporter.sent, 0)
      assert.deepEqual(answer.body.reporter, reporter.stats())
    })
  }
})
