/**
 * @module notifications/topic-urn
 * The `topic_id` of a key-event notification (spec §6.1, §6.2) and the notification type it implies.
 * Pure.
 *
 * - SMN topic: `urn:smn:{region}:{project_id}:{topic_name}` → `smn`
 * - FunctionGraph function: `urn:fss:{region}:{project_id}:function:{package}:{name}[:{version}]`
 *   → `fun`
 *
 * The project in the URN need not be the notification's project (a topic may be shared across
 * projects); OpenCTS does not check it.
 */
import type { NotificationType } from '../model/index.js'

export interface TopicUrn {
  readonly type: NotificationType
  readonly region: string
  readonly projectId: string
  /** SMN topic name, or FunctionGraph function name. */
  readonly name: string
  /** FunctionGraph only. */
  readonly package?: string
  /** FunctionGraph only: version or alias, when given. */
  readonly version?: string
}

const SEGMENT = '[A-Za-z0-9_-]{1,64}'
const SMN_PATTERN = new RegExp(
  `^urn:smn:(${SEGMENT}):(${SEGMENT}):([A-Za-z0-9][A-Za-z0-9_-]{0,255})$`,
)
const FUN_PATTERN = new RegExp(
  `^urn:fss:(${SEGMENT}):(${SEGMENT}):function:(${SEGMENT}):([A-Za-z][A-Za-z0-9_-]{0,127})(?::([A-Za-z0-9_.!$-]{1,128}))?$`,
)

/** What a valid `topic_id` looks like, for error messages. */
export const TOPIC_URN_FORMS =
  'urn:smn:{region}:{project_id}:{topic} or urn:fss:{region}:{project_id}:function:{package}:{name}[:{version}]'

/** Parses a topic URN; undefined when it is neither form. */
export function parseTopicUrn(topicId: string): TopicUrn | undefined {
  const smn = SMN_PATTERN.exec(topicId)
  if (smn !== null) {
    const [, region = '', projectId = '', name = ''] = smn
    return { type: 'smn', region, projectId, name }
  }
  const fun = FUN_PATTERN.exec(topicId)
  if (fun !== null) {
    const [, region = '', projectId = '', pkg = '', name = '', version] = fun
    return {
      type: 'fun',
      region,
      projectId,
      name,
      package: pkg,
      ...(version === undefined ? {} : { version }),
    }
  }
  return undefined
}
