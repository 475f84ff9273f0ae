/**
 * @module recorder/maps/glance
 * The OpenStack Glance v2 routes IMS serves (spec ims-glance-auth §1.2; UMN Table 2): service IMS,
 * resource type `image`. The image file (`PUT .../file`, `.../stage`) is never captured; the name
 * of a deleted image is looked up before forwarding; member ids and tags go into `message`.
 */
import { parseRouteMap, type RouteMap } from '../route-map.js'

const LOOKUP = { path: '/v2/images/{image_id}', name: 'resp.name', before: false } as const
const LOOKUP_BEFORE = { ...LOOKUP, before: true } as const

function onImage(
  method: string,
  path: string,
  traceName: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
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

function read(path: string, traceName: string): Record<string, unknown> {
  return { method: 'GET', path, trace_name: traceName, resource_type: 'image', read_only: true }
}

/** Glance v2 (and the deprecated v1.1 delete). */
export const GLANCE_MAP: RouteMap = parseRouteMap({
  name: 'glance',
  service_type: 'IMS',
  routes: [
    {
      method: 'POST',
      path: '/v2/images',
      trace_name: 'createImage',
      resource_type: 'image',
      resource_id: 'resp.id | req.id',
      resource_name: 'resp.name | req.name',
    },
    onImage('PATCH', '/v2/images/{image_id}', 'updateImage', {
      resource_name: 'resp.name | lookup',
    }),
    onImage('PUT', '/v2/images/{image_id}/file', 'updateImage', { capture_request: false }),
    onImage('PUT', '/v2/images/{image_id}/stage', 'updateImage', { capture_request: false }),
    onImage('POST', '/v2/images/{image_id}/import', 'updateImage'),
    onImage('DELETE', '/v2/images/{image_id}', 'deleteImage', { lookup: LOOKUP_BEFORE }),
    onImage('DELETE', '/v1.1/images/{image_id}', 'deleteImage', {
      lookup: { ...LOOKUP_BEFORE, path: '/v2/images/{image_id}' },
    }),
    onImage('POST', '/v2/images/{image_id}/members', 'addMember', {
      message_fields: { member_id: 'req.member | resp.member_id' },
    }),
    onImage('PUT', '/v2/images/{image_id}/members/{member_id}', 'updateMember', {
      message_fields: { member_id: 'path.member_id', status: 'req.status' },
    }),
    onImage('DELETE', '/v2/images/{image_id}/members/{member_id}', 'deleteMember', {
      message_fields: { member_id: 'path.member_id' },
    }),
    onImage('PUT', '/v2/images/{image_id}/tags/{tag}', 'addTag', {
      message_fields: { tag: 'path.tag' },
    }),
    onImage('DELETE', '/v2/images/{image_id}/tags/{tag}', 'deleteTag', {
      message_fields: { tag: 'path.tag' },
    }),
    read('/v2/images', 'listImages'),
    read('/v2/images/{image_id}', 'showImage'),
    read('/v2/images/{image_id}/members', 'listMembers'),
    read('/v2/images/{image_id}/members/{member_id}', 'showMember'),
    read('/v2/schemas/image', 'showSchema'),
    read('/v2/schemas/images', 'showSchema'),
    read('/v2/schemas/member', 'showSchema'),
    read('/v2/schemas/members', 'showSchema'),
    read('/', 'listVersions'),
    read('/{version}', 'showVersion'),
  ],
})
