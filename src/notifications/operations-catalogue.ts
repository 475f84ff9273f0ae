/**
 * @module notifications/operations-catalogue
 * `GET /v3/{project_id}/operations` (spec §7.2): the operations a customized notification can pick,
 * grouped by (service_type, resource_type). It merges a static catalogue — CTS's own self-audit
 * operations (§14.3) and examples of the services of §15 (IMS, IAM, ECS, EVS, VPC, OBS, AOM, SWR) —
 * with every (service, resource type, trace name) the project's traces have shown
 * (`TraceStore.catalogue`). Pure.
 *
 * Filters: `service_type`, `resource_type` (which requires `service_type`, else 400 CTS.0300), each
 * matched case-insensitively (HWC's own example writes `cts`). Output sorted by service type, then
 * resource type; each `operation_list` sorted and de-duplicated.
 */
import type { CatalogueEntry } from '../store/index.js'
import { queryParam, type QueryParams } from '../trackers/query-params.js'
import { reject } from '../trackers/reject.js'

export interface OperationGroup {
  readonly service_type: string
  readonly resource_type: string
  readonly operation_list: readonly string[]
}

/** Operations known without any trace having been recorded. */
export const STATIC_OPERATIONS: readonly OperationGroup[] = [
  {
    service_type: 'CTS',
    resource_type: 'tracker',
    operation_list: ['createTracker', 'updateTracker', 'deleteTracker'],
  },
  {
    service_type: 'CTS',
    resource_type: 'notification',
    operation_list: [
      'createNotification',
      'updateNotification',
      'deleteNotification',
      'updateNotificationStatus',
    ],
  },
  { service_type: 'CTS', resource_type: 'trace', operation_list: ['exportTrace', 'getTrace'] },
  {
    service_type: 'CTS',
    resource_type: 'insight',
    operation_list: [
      'ApiCallRateInsight',
      'ApiErrorRateInsight',
      'DeniedBurstInsight',
      'HighRiskOperationInsight',
    ],
  },
  {
    service_type: 'IMS',
    resource_type: 'image',
    operation_list: [
      'createImage',
      'updateImage',
      'deleteImage',
      'copyImage',
      'exportImage',
      'addMember',
      'updateMember',
      'deleteMember',
      'addTag',
      'deleteTag',
    ],
  },
  { service_type: 'IAM', resource_type: 'user', operation_list: ['login', 'logout'] },
  {
    service_type: 'ECS',
    resource_type: 'ecs',
    operation_list: ['createServer', 'createSingleServer', 'deleteServer', 'deleteMetadata'],
  },
  { service_type: 'EVS', resource_type: 'evs', operation_list: ['createVolume', 'deleteVolume'] },
  { service_type: 'VPC', resource_type: 'eip', operation_list: ['deleteEip'] },
  {
    service_type: 'OBS',
    resource_type: 'bucket',
    operation_list: ['createBucket', 'deleteBucket', 'listAllMyBucket'],
  },
  {
    service_type: 'AOM',
    resource_type: 'pe',
    operation_list: ['createPolicyGroup', 'updatePolicyGroup', 'deletePolicyGroup'],
  },
  { service_type: 'SWR', resource_type: 'dockerlogincmd', operation_list: ['createDockerConfig'] },
]

export interface OperationsList {
  readonly operations: OperationGroup[]
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase()

/**
 * The static catalogue merged with `observed`, filtered by the query's `service_type` and
 * `resource_type`. Throws OCTS_ERR_QUERY (CTS.0300) for `resource_type` without `service_type` or a
 * repeated key.
 */
export function listOperations(
  observed: readonly CatalogueEntry[],
  query: QueryParams,
): OperationsList {
  const serviceType = queryParam(query, 'service_type')
  const resourceType = queryParam(query, 'resource_type')
  if (resourceType !== undefined && serviceType === undefined) {
    reject('OCTS_ERR_QUERY', 'resource_type requires service_type')
  }
  const groups = new Map<
    string,
    { service_type: string; resource_type: string; names: Set<string> }
  >()
  const add = (service: string, resource: string, names: readonly string[]): void => {
    if (serviceType !== undefined && !same(service, serviceType)) return
    if (resourceType !== undefined && !same(resource, resourceType)) return
    const key = JSON.stringify([service, resource])
    let group = groups.get(key)
    if (group === undefined) {
      group = { service_type: service, resource_type: resource, names: new Set() }
      groups.set(key, group)
    }
    for (const name of names) group.names.add(name)
  }
  for (const group of STATIC_OPERATIONS) {
    add(group.service_type, group.resource_type, group.operation_list)
  }
  for (const entry of observed) add(entry.service_type, entry.resource_type, [entry.trace_name])
  const operations = [...groups.values()]
    .map((g) => ({
      service_type: g.service_type,
      resource_type: g.resource_type,
      operation_list: [...g.names].sort(),
    }))
    .sort(
      (a, b) =>
        compare(a.service_type, b.service_type) || compare(a.resource_type, b.resource_type),
    )
  return { operations }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
