/**
 * @module trackers/tag-service
 * The tag APIs of spec §7.7 on trackers: path `resource_type` must be `cts-tracker` (else 400
 * OCTS_ERR_RESOURCE_TYPE) and `resource_id` an existing tracker id of the project (else 404 CTS.0214).
 *
 * Tag rules (400 OCTS_ERR_TAG_INVALID otherwise): key 1–128 characters, value 0–255, both of
 * letters, digits, spaces and `_ . : / = + - @`, without leading or trailing spaces; the key must
 * not start with `_sys_`; keys are unique within a request; a resource carries at most 20 tags.
 * Tag changes are not self-audited (CTS documents no trace for them).
 *
 * `resource-instances/filter`: tags of different keys must all match (AND), the values of one key
 * are alternatives (OR) and an empty value list matches any value of the key; a `resource_name`
 * match is exact when its value is empty and otherwise a case-insensitive substring match.
 */
import type { Tracker } from '../model/index.js'
import type { ConfigStore, Tag } from '../store/index.js'
import type { ServiceResult } from '../ingest/audited-call.js'
import { BodyReader, describeJson, isJsonObject } from './body-reader.js'
import { queryParam, type QueryParams } from './query-params.js'
import { reject } from './reject.js'

export const TAG_RESOURCE_TYPE = 'cts-tracker'
export const MAX_TAGS_PER_RESOURCE = 20
export const MAX_TAG_KEY = 128
export const MAX_TAG_VALUE = 255
/** Page size of the project tag list: default and max. */
export const MAX_TAG_PAGE = 200
/** Page size of the filter API: default and max. */
export const MAX_FILTER_PAGE = 1000

const TAG_CHARS = /^[\p{L}\p{N} _.:/=+\-@]*$/u

export interface TagServiceDeps {
  readonly config: ConfigStore
}

function invalid(message: string): never {
  return reject('OCTS_ERR_TAG_INVALID', message)
}

function body(value: unknown): BodyReader {
  if (!isJsonObject(value)) {
    const got = value === undefined ? 'nothing' : describeJson(value)
    return reject('OCTS_ERR_INVALID_BODY', `want a JSON object, got ${got}`)
  }
  return new BodyReader(value, '', invalid)
}

function checkText(
  reader: BodyReader,
  key: string,
  value: string,
  min: number,
  max: number,
): string {
  const length = [...value].length
  if (length < min || length > max) {
    reader.fail(key, `must have ${min} to ${max} characters, got ${length}`)
  }
  if (!TAG_CHARS.test(value)) {
    reader.fail(
      key,
      `may hold letters, digits, spaces and _ . : / = + - @ only, got ${JSON.stringify(value)}`,
    )
  }
  if (value !== value.trim())
    reader.fail(key, `must not start or end with a space, got ${JSON.stringify(value)}`)
  return value
}

function tagKey(reader: BodyReader): string {
  const key = checkText(
    reader,
    'key',
    reader.string('key') ?? reader.fail('key', 'is required'),
    1,
    MAX_TAG_KEY,
  )
  if (key.startsWith('_sys_'))
    reader.fail('key', `must not start with _sys_, got ${JSON.stringify(key)}`)
  return key
}

function tagList(reader: BodyReader): BodyReader[] {
  const tags = reader.objectArray('tags') ?? reader.fail('tags', 'is required')
  if (tags.length === 0) reader.fail('tags', 'must list at least one tag')
  return tags
}

function uniqueKeys(keys: readonly string[]): void {
  const seen = new Set<string>()
  for (const key of keys) {
    if (seen.has(key)) invalid(`tag key ${JSON.stringify(key)} is given twice`)
    seen.add(key)
  }
}

function nonNegative(reader: BodyReader, key: string, fallback: number, max: number): number {
  const value = reader.integer(key) ?? fallback
  if (value < 0 || value > max) reader.fail(key, `must be 0 to ${max}, got ${value}`)
  return value
}

export class TagService {
  readonly #config: ConfigStore

  constructor(deps: TagServiceDeps) {
    this.#config = deps.config
  }

  /**
   * `POST /v3/{project_id}/{resource_type}/{resource_id}/tags/create` with `{"tags":[{key,value}]}`:
   * adds or overwrites tags by key; 200 without body.
   */
  async create(
    projectId: string,
    resourceType: string,
    resourceId: string,
    input: unknown,
  ): Promise<ServiceResult> {
    checkResourceType(resourceType)
    await this.#tracker(projectId, resourceId)
    const tags: Tag[] = tagList(body(input)).map((tag) => ({
      key: tagKey(tag),
      value: checkText(tag, 'value', tag.string('value') ?? '', 0, MAX_TAG_VALUE),
    }))
    uniqueKeys(tags.map((t) => t.key))
    const current = await this.#config.getTags(projectId, TAG_RESOURCE_TYPE, resourceId)
    const keys = new Set([...current.map((t) => t.key), ...tags.map((t) => t.key)])
    if (keys.size > MAX_TAGS_PER_RESOURCE) {
      invalid(`the tracker would carry ${keys.size} tags, max ${MAX_TAGS_PER_RESOURCE}`)
    }
    await this.#config.putTags(projectId, TAG_RESOURCE_TYPE, resourceId, tags, [])
    return { status: 200 }
  }

  /**
   * `DELETE /v3/{project_id}/{resource_type}/{resource_id}/tags/delete` with `{"tags":[{key,value?}]}`:
   * deletes by key, or by key and value when a value is given; 204. Absent tags are ignored.
   */
  async delete(
    projectId: string,
    resourceType: string,
    resourceId: string,
    input: unknown,
  ): Promise<ServiceResult> {
    checkResourceType(resourceType)
    await this.#tracker(projectId, resourceId)
    const tags = tagList(body(input)).map((tag) => {
      const key = tag.string('key') ?? tag.fail('key', 'is required')
      const value = tag.string('value')
      return value === undefined ? { key } : { key, value }
    })
    await this.#config.deleteTags(projectId, TAG_RESOURCE_TYPE, resourceId, tags, [])
    return { status: 204 }
  }

  /** `GET /v3/{project_id}/{resource_type}/{resource_id}/tags`: 200 `{"tags":[{key,value}]}` by key. */
  async get(projectId: string, resourceType: string, resourceId: string): Promise<ServiceResult> {
    checkResourceType(resourceType)
    await this.#tracker(projectId, resourceId)
    const tags = await this.#config.getTags(projectId, TAG_RESOURCE_TYPE, resourceId)
    return { status: 200, body: { tags: tags.map(({ key, value }) => ({ key, value })) } }
  }

  /**
   * `GET /v3/{project_id}/{resource_type}/tags?limit=&marker=`: 200
   * `{"tags":[{key, values[]}], "page_info":{"next_marker"?}}`, keys sorted; `marker` is the last key
   * of the previous page, `next_marker` is present only when more keys follow. `limit` 1–200
   * (default 200), else 400 CTS.0300.
   */
  async list(projectId: string, resourceType: string, query: QueryParams): Promise<ServiceResult> {
    checkResourceType(resourceType)
    const limitText = queryParam(query, 'limit')
    const limit = limitText === undefined ? MAX_TAG_PAGE : Number(limitText)
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_TAG_PAGE) {
      reject(
        'OCTS_ERR_QUERY',
        `limit must be 1 to ${MAX_TAG_PAGE}, got ${JSON.stringify(limitText)}`,
      )
    }
    const marker = queryParam(query, 'marker')
    const byKey = new Map<string, Set<string>>()
    for (const tag of await this.#config.listTags(projectId, TAG_RESOURCE_TYPE)) {
      const values = byKey.get(tag.key) ?? new Set<string>()
      values.add(tag.value)
      byKey.set(tag.key, values)
    }
    const keys = [...byKey.keys()].sort().filter((key) => marker === undefined || key > marker)
    const page = keys.slice(0, limit)
    const tags = page.map((key) => ({ key, values: [...(byKey.get(key) ?? [])].sort() }))
    const last = page.at(-1)
    const more = keys.length > page.length && last !== undefined
    return { status: 200, body: { tags, page_info: more ? { next_marker: last } : {} } }
  }

  /**
   * `POST /v3/{project_id}/{resource_type}/resource-instances/filter` with
   * `{"tags":[{key, values[]}], "matches":[{key:"resource_name", value}], "limit", "offset"}`:
   * 200 `{"resources":[{resource_id, resource_name, resource_detail, tags}], "total_count"}`, trackers
   * by name; `resource_detail` is the tracker. `limit` 1–1000 (default 1000), `offset` ≥ 0.
   */
  async filter(projectId: string, resourceType: string, input: unknown): Promise<ServiceResult> {
    checkResourceType(resourceType)
    const reader = body(input)
    const wanted = (reader.objectArray('tags') ?? []).map((tag) => ({
      key: tagKey(tag),
      values: tag.stringArray('values') ?? [],
    }))
    const matches = (reader.objectArray('matches') ?? []).map((match) => {
      const key = match.string('key')
      if (key !== 'resource_name')
        match.fail('key', `must be resource_name, got ${JSON.stringify(key ?? null)}`)
      return match.string('value') ?? ''
    })
    const limit = nonNegative(reader, 'limit', MAX_FILTER_PAGE, MAX_FILTER_PAGE)
    if (limit === 0) reader.fail('limit', `must be 1 to ${MAX_FILTER_PAGE}, got 0`)
    const offset = nonNegative(reader, 'offset', 0, Number.MAX_SAFE_INTEGER)
    const [trackers, allTags] = await Promise.all([
      this.#config.listTrackers(projectId),
      this.#config.listTags(projectId, TAG_RESOURCE_TYPE),
    ])
    const tagsOf = new Map<string, { key: string; value: string }[]>()
    for (const tag of allTags) {
      const list = tagsOf.get(tag.resourceId) ?? []
      list.push({ key: tag.key, value: tag.value })
      tagsOf.set(tag.resourceId, list)
    }
    const selected = [...trackers]
      .sort((a, b) =>
        a.tracker_name < b.tracker_name ? -1 : a.tracker_name > b.tracker_name ? 1 : 0,
      )
      .filter((tracker) => {
        const tags = tagsOf.get(tracker.id) ?? []
        const tagsMatch = wanted.every((want) =>
          tags.some(
            (t) =>
              t.key === want.key && (want.values.length === 0 || want.values.includes(t.value)),
          ),
        )
        return tagsMatch && matches.every((value) => nameMatches(tracker, value))
      })
    const resources = selected.slice(offset, offset + limit).map((tracker) => ({
      resource_id: tracker.id,
      resource_name: tracker.tracker_name,
      resource_detail: tracker,
      tags: tagsOf.get(tracker.id) ?? [],
    }))
    return { status: 200, body: { resources, total_count: selected.length } }
  }

  async #tracker(projectId: string, resourceId: string): Promise<Tracker> {
    const trackers = await this.#config.listTrackers(projectId)
    const tracker = trackers.find((t) => t.id === resourceId)
    if (tracker === undefined)
      reject('OCTS_ERR_TRACKER_NOT_FOUND', `no tracker with id ${JSON.stringify(resourceId)}`)
    return tracker
  }
}

function checkResourceType(resourceType: string): void {
  if (resourceType !== TAG_RESOURCE_TYPE) {
    reject('OCTS_ERR_RESOURCE_TYPE', `got ${JSON.stringify(resourceType)}`)
  }
}

function nameMatches(tracker: Tracker, value: string): boolean {
  if (value === '') return tracker.tracker_name === ''
  return tracker.tracker_name.toLowerCase().includes(value.toLowerCase())
}
