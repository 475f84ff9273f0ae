/**
 * @module recorder/maps/ims
 * The IMS-native routes (spec ims-glance-auth §1.2–§1.5): service IMS, resource type `image`.
 *
 * - Asynchronous calls answer `{"job_id"}`; the completion trace (SystemAction) comes from
 *   `GET /v1/{project_id}/jobs/{job_id}`: resource_id `entities.image_id`, or one trace per
 *   `entities.sub_jobs_result[].entities.image_id` for multi-image jobs.
 * - Batch member calls fan out over `req.images`: one trace per image (§1.5).
 * - The seed table spells `deleteMemeber`; OpenCTS records `deleteMember` (docs/recorder-maps.md).
 * - `POST /v2/{project_id}/images/resource_instances/action` is a query despite the POST: read-only.
 */
import { parseRouteMap, type RouteMap } from '../route-map.js'

const POLL = '/v1/{project_id}/jobs/{job_id}'
const LOOKUP = { path: '/v2/images/{image_id}', name: 'resp.name', before: false } as const

/** A create job: the new image(s) come from the job. */
const CREATE_JOB = {
  job_id: 'resp.job_id',
  poll_path: POLL,
  resource_id: 'job.entities.image_id',
  resource_name: 'job.entities.image_name | req.name',
  fan_out: 'job.entities.sub_jobs_result[].entities.image_id',
} as const

/** A job on an existing image (path.image_id). */
const IMAGE_JOB = {
  job_id: 'resp.job_id',
  poll_path: POLL,
  resource_id: 'job.entities.image_id | path.image_id',
  resource_name: 'job.entities.image_name | lookup',
} as const

/** A batch member job: one completion trace per requested image. */
const MEMBER_JOB = {
  job_id: 'resp.job_id',
  poll_path: POLL,
  resource_id: 'job.entities.image_id',
  fan_out: 'req.images',
} as const

function create(path: string, iam: string): Record<string, unknown> {
  return {
    method: 'POST',
    path,
    trace_name: 'createImage',
    resource_type: 'image',
    resource_name: 'req.name | req.data_images.0.name',
    async_job: CREATE_JOB,
    message_fields: { iam_action: `const:${iam}` },
  }
}

function copy(version: string): Record<string, unknown> {
  return {
    method: 'POST',
    path: `/${version}/cloudimages/{image_id}/copy`,
    trace_name: 'copyImage',
    resource_type: 'image',
    resource_id: 'path.image_id',
    resource_name: 'req.name',
    async_job: { ...CREATE_JOB, resource_id: 'job.entities.image_id | path.image_id' },
    message_fields: { iam_action: 'const:ims:images:copy' },
  }
}

function exportImage(version: string): Record<string, unknown> {
  return {
    method: 'POST',
    path: `/${version}/cloudimages/{image_id}/file`,
    trace_name: 'exportImage',
    resource_type: 'image',
    resource_id: 'path.image_id',
    resource_name: 'lookup',
    lookup: LOOKUP,
    async_job: IMAGE_JOB,
    message_fields: { iam_action: 'const:ims:images:export', bucket_url: 'req.bucket_url' },
  }
}

function members(method: string, traceName: string): Record<string, unknown> {
  return {
    method,
    path: '/v1/cloudimages/members',
    trace_name: traceName,
    resource_type: 'image',
    fan_out: 'req.images',
    async_job: MEMBER_JOB,
    message_fields: { iam_action: 'const:ims:images:share' },
  }
}

function read(method: string, path: string, traceName: string): Record<string, unknown> {
  return { method, path, trace_name: traceName, resource_type: 'image', read_only: true }
}

function tag(method: string, path: string, traceName: string, extra = {}): Record<string, unknown> {
  return {
    method,
    path,
    trace_name: traceName,
    resource_type: 'image',
    resource_id: 'path.image_id',
    resource_name: 'lookup',
    lookup: LOOKUP,
    ...extra,
  }
}

/** IMS-native API (IMS endpoint, `/v1`, `/v2`, `/v2.1`). */
export const IMS_MAP: RouteMap = parseRouteMap({
  name: 'ims',
  service_type: 'IMS',
  redact: ['adminPass', 'cmk_id'],
  routes: [
    create('/v2/cloudimages/action', 'ims:serverImages:create'),
    create('/v2.1/cloudimages/action', 'ims:serverImages:create'),
    create('/v2/cloudimages/quickimport/action', 'ims:serverImages:create'),
    create('/v2.1/cloudimages/quickimport/action', 'ims:serverImages:create'),
    create('/v1/cloudimages/dataimages/action', 'ims:dataImages:create'),
    create('/v2.1/cloudimages/dataimages/action', 'ims:dataImages:create'),
    create('/v1/cloudimages/wholeimages/action', 'ims:wholeImages:create'),
    {
      method: 'PUT',
      path: '/v1/cloudimages/{image_id}/upload',
      trace_name: 'createImage',
      resource_type: 'image',
      resource_id: 'path.image_id',
      resource_name: 'lookup',
      lookup: LOOKUP,
      async_job: IMAGE_JOB,
      message_fields: { iam_action: 'const:ims:images:upload', image_url: 'req.image_url' },
    },
    {
      method: 'PATCH',
      path: '/v2/cloudimages/{image_id}',
      trace_name: 'updateImage',
      resource_type: 'image',
      resource_id: 'path.image_id',
      resource_name: 'resp.name | lookup',
      message_fields: { iam_action: 'const:ims:images:update' },
    },
    copy('v1'),
    copy('v2.1'),
    {
      method: 'POST',
      path: '/v1/cloudimages/{image_id}/cross_region_copy',
      trace_name: 'copyImage',
      resource_type: 'image',
      resource_id: 'path.image_id',
      resource_name: 'lookup',
      lookup: LOOKUP,
      async_job: IMAGE_JOB,
      message_fields: { region: 'req.region', project_name: 'req.project_name' },
    },
    exportImage('v1'),
    exportImage('v2.1'),
    members('POST', 'addMember'),
    members('PUT', 'updateMember'),
    members('DELETE', 'deleteMember'),
    tag('POST', '/v2/{project_id}/images/{image_id}/tags', 'addTag', {
      message_fields: { tag_key: 'req.tag.key' },
    }),
    tag('POST', '/v2/{project_id}/images/{image_id}/tags/action', 'addTag', {
      trace_name_by: { source: 'req.action', names: { create: 'addTag', delete: 'deleteTag' } },
    }),
    tag('DELETE', '/v2/{project_id}/images/{image_id}/tags/{key}', 'deleteTag', {
      message_fields: { tag_key: 'path.key' },
    }),
    {
      method: 'PUT',
      path: '/v1/cloudimages/tags',
      trace_name: 'addTag',
      resource_type: 'image',
      resource_id: 'req.image_id',
      message_fields: { tag: 'req.tag | req.image_tag.key' },
    },
    tag('DELETE', '/v1/{project_id}/cloudimages/{image_id}/tags/delete', 'deleteTag'),
    read('GET', '/v2/cloudimages', 'listImages'),
    read('GET', '/v1/cloudimages/quota', 'showQuota'),
    read('GET', '/v1/cloudimages/os_version', 'listOsVersions'),
    read('GET', '/v1/cloudimages/tags', 'listTags'),
    read('GET', '/v2/{project_id}/images/tags', 'listTags'),
    read('GET', '/v2/{project_id}/images/{image_id}/tags', 'listImageTags'),
    read('GET', '/v1/{project_id}/jobs/{job_id}', 'showJob'),
    read('GET', '/v1/cloudimages/job/{job_id}', 'showJobProgress'),
    read('POST', '/v2/{project_id}/images/resource_instances/action', 'listImagesByTags'),
  ],
})
