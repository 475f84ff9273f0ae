/**
 * @module delivery/topic-service
 * The API behind notification targets (docs/notifications-delivery.md): topics
 * (`urn:smn:{region}:{project_id}:{name}`) with subscriptions (`http`, `https`, `email`), function
 * URNs (`urn:fss:…`) bound to an HTTP(S) endpoint, and the deliveries (list, redeliver).
 *
 * Each subscription and function gets a signing secret (delivery-signature.ts), answered once
 * when it is created and stored only sealed with the server master key. Errors: 400 OCTS.0150
 * (invalid), 409 OCTS.0151 (topic exists), 404 OCTS.0152 (unknown topic, subscription, function),
 * 404 OCTS.0153 (unknown delivery).
 */
import { OpenCtsError, isOpenCtsError } from '../errors/index.js'
import { parseTopicUrn } from '../notifications/topic-urn.js'
import type { Clock, IdSource } from '../platform/clock.js'
import type { Sealer } from '../platform/sealer.js'
import type {
  DeliveryRecord,
  DeliveryStatus,
  DeliveryStore,
  SubscriptionProtocol,
  SubscriptionRecord,
} from '../store/index.js'
import { newSigningSecret } from './delivery-signature.js'

export interface TopicServiceDeps {
  readonly delivery: DeliveryStore
  readonly sealer: Sealer
  readonly clock: Clock
  readonly ids: IdSource
  readonly region: string
  /** Called after a redelivery was scheduled, to send it at once. */
  readonly onRedeliver?: () => void
}

const TOPIC_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,255}$/
const EMAIL = /^[^\s@<>()",;:]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$/
const STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'dead']

function invalid(message: string): never {
  throw new OpenCtsError('OCTS_ERR_TOPIC_INVALID', { message })
}

function notFound(message: string): never {
  throw new OpenCtsError('OCTS_ERR_TOPIC_NOT_FOUND', { message })
}

function field(body: unknown, key: string): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new OpenCtsError('OCTS_ERR_INVALID_BODY', { message: 'the body must be a JSON object' })
  const value = (body as Record<string, unknown>)[key]
  if (typeof value !== 'string' || value === '') invalid(`${key} is required (a string)`)
  return value
}

function httpEndpoint(endpoint: string, protocol?: 'http' | 'https'): string {
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    return invalid(`endpoint ${JSON.stringify(endpoint)} is not a URL`)
  }
  const scheme = url.protocol.slice(0, -1)
  if (scheme !== 'http' && scheme !== 'https')
    invalid('endpoint must be an http:// or https:// URL')
  if (protocol !== undefined && scheme !== protocol)
    invalid(`protocol ${protocol} needs an ${protocol}:// endpoint, got ${url.protocol}//`)
  if (url.username !== '' || url.password !== '') invalid('endpoint must not carry credentials')
  return url.toString()
}

/** A failure retrying cannot fix: the delivery goes to the dead letters at once. */
function gone(message: string): Error {
  return Object.assign(new Error(message), { permanent: true })
}

export function subscriptionSecretBinding(id: string): string {
  return `subscription:${id}`
}

export function functionSecretBinding(urn: string): string {
  return `function:${urn}`
}

function subscriptionView(s: SubscriptionRecord): Record<string, unknown> {
  return {
    subscription_id: s.id,
    topic_urn: s.topicUrn,
    protocol: s.protocol,
    endpoint: s.endpoint,
    create_time: s.createdAt,
  }
}

function deliveryView(d: DeliveryRecord): Record<string, unknown> {
  return {
    delivery_id: d.id,
    notification_id: d.notificationId,
    trace_id: d.traceId,
    target_kind: d.targetKind,
    target_id: d.targetId,
    protocol: d.protocol,
    endpoint: d.endpoint,
    status: d.status,
    attempts: d.attempts,
    next_attempt_time: d.status === 'pending' ? d.nextAttemptAt : null,
    last_error: d.lastError,
    create_time: d.createdAt,
    delivered_time: d.deliveredAt,
  }
}

export class TopicService {
  readonly #deps: TopicServiceDeps

  constructor(deps: TopicServiceDeps) {
    this.#deps = deps
  }

  #urn(projectId: string, name: string): string {
    return `urn:smn:${this.#deps.region}:${projectId}:${name}`
  }

  /** `POST /v3/{project_id}/topics` `{"name"}` → 201 the topic. */
  async createTopic(projectId: string, body: unknown): Promise<Record<string, unknown>> {
    const name = field(body, 'name')
    if (!TOPIC_NAME.test(name))
      invalid('name must be 1-256 letters, digits, _ or -, starting with a letter or digit')
    const topic = {
      urn: this.#urn(projectId, name),
      projectId,
      name,
      createdAt: this.#deps.clock.now(),
    }
    try {
      await this.#deps.delivery.insertTopic(topic)
    } catch (error) {
      if (isOpenCtsError(error) && error.code === 'OCTS_ERR_CONFLICT')
        throw new OpenCtsError('OCTS_ERR_TOPIC_EXISTS', { message: `topic ${name} exists` })
      throw error
    }
    return { topic_urn: topic.urn, name, create_time: topic.createdAt }
  }

  async listTopics(projectId: string): Promise<{ topics: Record<string, unknown>[] }> {
    const topics = await this.#deps.delivery.listTopics(projectId)
    return {
      topics: await Promise.all(
        topics.map(async (t) => ({
          topic_urn: t.urn,
          name: t.name,
          create_time: t.createdAt,
          subscription_count: (await this.#deps.delivery.listSubscriptions(t.urn)).length,
        })),
      ),
    }
  }

  async deleteTopic(projectId: string, name: string): Promise<void> {
    if (!(await this.#deps.delivery.deleteTopic(projectId, this.#urn(projectId, name))))
      notFound(`no topic ${name}`)
  }

  async #topic(projectId: string, name: string): Promise<string> {
    const urn = this.#urn(projectId, name)
    if ((await this.#deps.delivery.getTopic(urn)) === undefined) notFound(`no topic ${name}`)
    return urn
  }

  /**
   * `POST /v3/{project_id}/topics/{name}/subscriptions` `{"protocol","endpoint"}` → 201 the
   * subscription with its `secret` (shown this once).
   */
  async subscribe(
    projectId: string,
    name: string,
    body: unknown,
  ): Promise<Record<string, unknown>> {
    const topicUrn = await this.#topic(projectId, name)
    const protocol = field(body, 'protocol')
    if (!['http', 'https', 'email'].includes(protocol))
      invalid(`protocol must be http, https or email, got ${JSON.stringify(protocol)}`)
    const raw = field(body, 'endpoint')
    const endpoint =
      protocol === 'email'
        ? EMAIL.test(raw)
          ? raw
          : invalid(`endpoint ${JSON.stringify(raw)} is not an email address`)
        : httpEndpoint(raw, protocol as 'http' | 'https')
    const id = this.#deps.ids.uuid()
    const secret = newSigningSecret()
    const record: SubscriptionRecord = {
      id,
      topicUrn,
      projectId,
      protocol: protocol as SubscriptionProtocol,
      endpoint,
      sealedSecret: this.#deps.sealer.seal(secret, subscriptionSecretBinding(id)),
      createdAt: this.#deps.clock.now(),
    }
    await this.#deps.delivery.insertSubscription(record)
    return { ...subscriptionView(record), secret }
  }

  async listSubscriptions(
    projectId: string,
    name: string,
  ): Promise<{ subscriptions: Record<string, unknown>[] }> {
    const urn = await this.#topic(projectId, name)
    return {
      subscriptions: (await this.#deps.delivery.listSubscriptions(urn)).map(subscriptionView),
    }
  }

  async unsubscribe(projectId: string, name: string, id: string): Promise<void> {
    const urn = await this.#topic(projectId, name)
    const found = await this.#deps.delivery.getSubscription(id)
    if (found?.topicUrn !== urn || !(await this.#deps.delivery.deleteSubscription(projectId, id)))
      notFound(`no subscription ${id} on topic ${name}`)
  }

  /**
   * `POST /v3/{project_id}/functions` `{"function_urn","endpoint"}` → 201 with the `secret`
   * (shown this once). Binding an URN again replaces its endpoint and secret.
   */
  async putFunction(projectId: string, body: unknown): Promise<Record<string, unknown>> {
    const urn = field(body, 'function_urn')
    if (parseTopicUrn(urn)?.type !== 'fun')
      invalid('function_urn must be urn:fss:{region}:{project_id}:function:{package}:{name}')
    const endpoint = httpEndpoint(field(body, 'endpoint'))
    const secret = newSigningSecret()
    const createdAt = this.#deps.clock.now()
    await this.#deps.delivery.putFunction({
      urn,
      projectId,
      endpoint,
      sealedSecret: this.#deps.sealer.seal(secret, functionSecretBinding(urn)),
      createdAt,
    })
    return { function_urn: urn, endpoint, create_time: createdAt, secret }
  }

  async listFunctions(projectId: string): Promise<{ functions: Record<string, unknown>[] }> {
    return {
      functions: (await this.#deps.delivery.listFunctions(projectId)).map((f) => ({
        function_urn: f.urn,
        endpoint: f.endpoint,
        create_time: f.createdAt,
      })),
    }
  }

  async deleteFunction(projectId: string, urn: string): Promise<void> {
    if (!(await this.#deps.delivery.deleteFunction(projectId, urn))) notFound(`no function ${urn}`)
  }

  /** `GET /v3/{project_id}/deliveries?status=&limit=` newest first (limit 1-1000, default 100). */
  async listDeliveries(
    projectId: string,
    status: string | undefined,
    limit: string | undefined,
  ): Promise<{ deliveries: Record<string, unknown>[] }> {
    if (status !== undefined && !(STATUSES as readonly string[]).includes(status))
      invalid(`status must be pending, delivered or dead, got ${JSON.stringify(status)}`)
    const n = limit === undefined ? 100 : Number(limit)
    if (!Number.isInteger(n) || n < 1 || n > 1000)
      invalid('limit must be an integer from 1 to 1000')
    const list = await this.#deps.delivery.listDeliveries(
      projectId,
      status as DeliveryStatus | undefined,
      n,
    )
    return { deliveries: list.map(deliveryView) }
  }

  /** `POST /v3/{project_id}/deliveries/{id}/redeliver` → 202: pending again, sent at once. */
  async redeliver(projectId: string, id: string): Promise<Record<string, unknown>> {
    if (!(await this.#deps.delivery.redeliver(projectId, id, this.#deps.clock.now())))
      throw new OpenCtsError('OCTS_ERR_DELIVERY_NOT_FOUND', { message: `no delivery ${id}` })
    this.#deps.onRedeliver?.()
    return { delivery_id: id, status: 'pending' }
  }

  /** The signing secret of a delivery's target (for the worker). */
  async secretOf(delivery: DeliveryRecord): Promise<string> {
    if (delivery.targetKind === 'function') {
      const fn = await this.#deps.delivery.getFunction(delivery.targetId)
      if (fn === undefined) throw gone(`function ${delivery.targetId} was removed`)
      return this.#deps.sealer.open(fn.sealedSecret, functionSecretBinding(fn.urn))
    }
    const sub = await this.#deps.delivery.getSubscription(delivery.targetId)
    if (sub === undefined) throw gone(`subscription ${delivery.targetId} was removed`)
    return this.#deps.sealer.open(sub.sealedSecret, subscriptionSecretBinding(sub.id))
  }
}
