/**
 * @module recorder/maps/s3
 * Object-level S3 operations as data traces (service OBS, trace_type ObsAPI), path-style URLs only
 * (`/{bucket}/{key+}`). Each rule has a `data_event` (READ or WRITE) so that data trackers can
 * select it; `bucketOf(match)` gives the bucket. resource_type `object` with resource_id
 * `bucket/key` and resource_name the key; the bucket-level ListObjects, ListMultipartUploads and
 * DeleteObjects (whose keys are in an XML body) use resource_type `bucket`, resource_id the bucket.
 * Object bodies are never captured (uploads: `capture_request: false`; downloads:
 * `capture_response: false`). api_version is the S3 API version `2006-03-01`.
 *
 * Limits: a GET of a bucket with any subresource no rule names (`?acl`, `?policy`) matches
 * ListObjects, and one of an object (`?acl`, `?tagging`) matches GetObject.
 */
import { parseRouteMap, type RouteMap } from '../route-map.js'

const OBJECT = '/{bucket}/{key+}'

function object(
  method: string,
  traceName: string,
  event: 'READ' | 'WRITE',
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    method,
    path: OBJECT,
    trace_name: traceName,
    resource_type: 'object',
    resource_id: 'fmt:{bucket}/{key}',
    resource_name: 'path.key',
    data_event: event,
    api_version: 'const:2006-03-01',
    ...extra,
  }
}

function bucket(
  method: string,
  traceName: string,
  event: 'READ' | 'WRITE',
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    method,
    path: '/{bucket}',
    trace_name: traceName,
    resource_type: 'bucket',
    resource_id: 'path.bucket',
    resource_name: 'path.bucket',
    data_event: event,
    api_version: 'const:2006-03-01',
    ...extra,
  }
}

/** S3 object API, path-style. */
export const S3_MAP: RouteMap = parseRouteMap({
  name: 's3',
  service_type: 'OBS',
  trace_type: 'ObsAPI',
  redact: ['x-amz-security-token', 'SSECustomerKey'],
  routes: [
    object('GET', 'GetObject', 'READ', { capture_response: false }),
    object('HEAD', 'HeadObject', 'READ'),
    object('PUT', 'PutObject', 'WRITE', { capture_request: false }),
    object('PUT', 'CopyObject', 'WRITE', {
      header: 'x-amz-copy-source',
      message_fields: { copy_source: 'header.x-amz-copy-source' },
    }),
    object('DELETE', 'DeleteObject', 'WRITE'),
    object('POST', 'CreateMultipartUpload', 'WRITE', { query: 'uploads' }),
    object('PUT', 'UploadPart', 'WRITE', {
      query: 'uploadId',
      capture_request: false,
    }),
    object('PUT', 'UploadPartCopy', 'WRITE', {
      query: 'uploadId',
      header: 'x-amz-copy-source',
      message_fields: { copy_source: 'header.x-amz-copy-source' },
    }),
    object('POST', 'CompleteMultipartUpload', 'WRITE', { query: 'uploadId' }),
    object('DELETE', 'AbortMultipartUpload', 'WRITE', { query: 'uploadId' }),
    object('GET', 'ListParts', 'READ', { query: 'uploadId' }),
    bucket('GET', 'ListObjects', 'READ'),
    bucket('GET', 'ListMultipartUploads', 'READ', { query: 'uploads' }),
    bucket('POST', 'DeleteObjects', 'WRITE', { query: 'delete' }),
  ],
})
