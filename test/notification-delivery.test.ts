/**
 * Key-event notification delivery end to end, in-process: topics and subscriptions through the
 * API, traces through the ingest API, and a real webhook receiver on loopback. Each matching trace
 * arrives once with a valid signature and nothing else arrives; a receiver that is down gets
 * everything after it comes back; past the last attempt a delivery is a dead letter that can be
 * redelivered; functions get the CTS trigger event.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { it, type TestContext } from 'node:test'
import { SMTPServer } from 'smtp-server'
import { verifyDelivery } from '../src/delivery/delivery-signature.js'
import type { EmailPort } from '../src/delivery/delivery-worker.js'
import { emailPort } from '../src/delivery/email-port.js'
import { EmailSender } from '../src/delivery/email-sender.js'
import { TEST_NOW, TEST_PROJECTS, buildTestApp, call, type TestApp } from './helpers/test-app.js'

const P = TEST_PROJECTS[0]

interface Received {
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

interface Receiver {
  readonly url: string
  readonly port: number
  readonly received: Received[]
  /** Status answered from now on. */
  status: number
  close(): Promise<void>
}

async function receiver(t: TestContext, port = 0): Promise<Receiver> {
  const received: Received[] = []
  const state = { status: 204 }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (state.status < 300)
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.writeHead(state.status).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const bound = (server.address() as AddressInfo).port
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  t.after(close)
  return {
    url: `http://127.0.0.1:${bound}/hook`,
    port: bound,
    received,
    get status() {
      return state.status
    },
    set status(value: number) {
      state.status = value
    },
    close,
  }
}

/**
 * Waits (bounded) until `check` holds. The test app runs on a fake clock: each round moves it
 * 100 ms on and wakes the delivery service, so retries fall due without real waiting.
 */
let current: TestApp | undefined
async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 8000,
): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`)
    current?.clock.advance(100)
    current?.services.delivery.wake()
    await sleep(20)
  }
}

async function setup(
  t: TestContext,
  overrides: Record<string, string> = {},
  email?: EmailPort,
): Promise<TestApp> {
  const app = await buildTestApp(t, overrides, email === undefined ? {} : { email })
  current = app
  app.services.delivery.start(app.services.publisher)
  t.after(() => app.services.delivery.stop())
  return app
}

async function topicWith(
  app: TestApp,
  name: string,
  url: string,
  protocol: 'http' | 'https' = 'http',
): Promise<{ urn: string; secret: string }> {
  const topic = await call(app.app, 'POST', `/v3/${P}/topics`, { name })
  assert.equal(topic.status, 201, JSON.stringify(topic.body))
  const sub = await call(app.app, 'POST', `/v3/${P}/topics/${name}/subscriptions`, {
    protocol,
    endpoint: url,
  })
  assert.equal(sub.status, 201, JSON.stringify(sub.body))
  assert.match(sub.body.secret, /^whsec_/)
  return { urn: topic.body.topic_urn, secret: sub.body.secret }
}

function trace(user: string, code: number, traceName = 'deleteImage'): Record<string, unknown> {
  return {
    trace_id: randomUUID(),
    // By the app's (fake) clock: ingest accepts times within the retention and a day ahead.
    time: (current?.clock.now() ?? TEST_NOW) - 1000,
    service_type: 'IMS',
    resource_type: 'image',
    resource_id: `img-${randomUUID().slice(0, 8)}`,
    trace_name: traceName,
    trace_type: 'ApiCall',
    code,
    user: { id: `id-${user}`, name: user, domain: { id: 'd1', name: 'acme' } },
  }
}

async function ingest(app: TestApp, traces: Record<string, unknown>[]): Promise<void> {
  const posted = await call(app.app, 'POST', `/v3/${P}/traces`, { traces })
  assert.equal(posted.status, 201, JSON.stringify(posted.body))
}

it('sends each matching trace once, signed; a filter on user X and code != 200 holds', async (t) => {
  const app = await setup(t)
  const hook = await receiver(t)
  const { urn, secret } = await topicWith(app, 'image-alerts', hook.url)
  const created = await call(app.app, 'POST', `/v3/${P}/notifications`, {
    notification_name: 'x_failures',
    operation_type: 'customized',
    operations: [{ service_type: 'IMS', resource_type: 'image', trace_names: ['deleteImage'] }],
    notify_user_list: [{ user_group: 'ops', user_list: ['X'] }],
    filter: { is_support_filter: true, condition: 'AND', rule: ['code != 200'] },
    topic_id: urn,
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const wanted = [trace('X', 500), trace('X', 403)]
  const others = [trace('X', 200), trace('Y', 500), trace('X', 500, 'createImage')]
  await ingest(app, [...others.slice(0, 1), wanted[0]!, ...others.slice(1), wanted[1]!])

  await until('two deliveries', () => hook.received.length >= 2)
  await sleep(300) // nothing else follows
  assert.equal(hook.received.length, 2)
  const ids = hook.received.map((r) => {
    const body = JSON.parse(r.body) as { trace: { trace_id: string }; delivery_id: string }
    assert.ok(
      verifyDelivery(
        secret,
        {
          timestamp: r.headers['x-opencts-timestamp'] as string,
          signature: r.headers['x-opencts-signature'] as string,
        },
        r.body,
        app.clock.now(),
      ),
      'the signature verifies with the subscription secret',
    )
    assert.equal(r.headers['x-opencts-delivery-id'], body.delivery_id)
    assert.equal(
      verifyDelivery(
        'whsec_other',
        {
          timestamp: r.headers['x-opencts-timestamp'] as string,
          signature: r.headers['x-opencts-signature'] as string,
        },
        r.body,
        app.clock.now(),
      ),
      false,
    )
    return body.trace.trace_id
  })
  assert.deepEqual(ids.sort(), wanted.map((w) => w.trace_id as string).sort())
  const listed = await call(app.app, 'GET', `/v3/${P}/deliveries?status=delivered`)
  assert.equal(listed.body.deliveries.length, 2)
})

it('delivers everything once a receiver that was down comes back', async (t) => {
  const app = await setup(t, { deliveryBackoffMs: '50', deliveryMaxBackoffMs: '200' })
  const probe = await receiver(t)
  const port = probe.port
  await probe.close() // the endpoint is down
  const { urn } = await topicWith(app, 'all-events', `http://127.0.0.1:${port}/hook`)
  await call(app.app, 'POST', `/v3/${P}/notifications`, {
    notification_name: 'everything',
    operation_type: 'complete',
    topic_id: urn,
  })
  const sent = [trace('A', 200, 'createImage'), trace('B', 204, 'updateImage'), trace('C', 500)]
  await ingest(app, sent)
  await until('failed attempts', async () => {
    const list = await call(app.app, 'GET', `/v3/${P}/deliveries?status=pending`)
    return list.body.deliveries.some((d: { attempts: number }) => d.attempts >= 2)
  })
  const back = await receiver(t, port)
  await until('all deliveries after recovery', () => back.received.length >= sent.length)
  const ids = back.received.map(
    (r) => (JSON.parse(r.body) as { trace: { trace_id: string } }).trace.trace_id,
  )
  for (const s of sent)
    assert.ok(ids.includes(s.trace_id as string), `${String(s.trace_id)} arrived`)
  assert.equal(
    new Set(back.received.map((r) => r.headers['x-opencts-delivery-id'])).size,
    back.received.length,
  )
})

it('moves a delivery to the dead letters after the last attempt, and redelivers it on request', async (t) => {
  const app = await setup(t, { deliveryMaxAttempts: '2', deliveryBackoffMs: '20' })
  const hook = await receiver(t)
  hook.status = 500
  const { urn } = await topicWith(app, 'flaky', hook.url)
  await call(app.app, 'POST', `/v3/${P}/notifications`, {
    notification_name: 'flaky_all',
    operation_type: 'complete',
    topic_id: urn,
  })
  const failing = trace('A', 500)
  await ingest(app, [failing])
  type Dead = { delivery_id: string; trace_id: string; attempts: number; last_error: string }
  let dead: Dead | undefined
  // `complete` also matches the createNotification audit trace: pick the ingested trace's delivery.
  await until('a dead letter', async () => {
    const list = (await call(app.app, 'GET', `/v3/${P}/deliveries?status=dead`)).body
      .deliveries as Dead[]
    dead = list.find((d) => d.trace_id === failing.trace_id)
    return dead !== undefined
  })
  assert.equal(dead?.attempts, 2)
  assert.equal(dead?.last_error, 'HTTP 500')
  hook.status = 200
  const again = await call(app.app, 'POST', `/v3/${P}/deliveries/${dead?.delivery_id}/redeliver`)
  assert.equal(again.status, 202)
  await until('the redelivery', () => hook.received.length === 1)
  assert.equal(
    (JSON.parse(hook.received[0]?.body ?? '{}') as { trace: { trace_id: string } }).trace.trace_id,
    failing.trace_id,
  )
  const unknown = await call(app.app, 'POST', `/v3/${P}/deliveries/${randomUUID()}/redeliver`)
  assert.equal(unknown.status, 404)
  assert.equal(unknown.body.error_code, 'OCTS.0153')
})

it('invokes a function endpoint with the CTS trigger event {"cts": trace}', async (t) => {
  const app = await setup(t)
  const fn = await receiver(t)
  const urn = `urn:fss:local-1:${P}:function:default:on_delete`
  const bound = await call(app.app, 'POST', `/v3/${P}/functions`, {
    function_urn: urn,
    endpoint: fn.url,
  })
  assert.equal(bound.status, 201, JSON.stringify(bound.body))
  const made = await call(app.app, 'POST', `/v3/${P}/notifications`, {
    notification_name: 'fn_deletes',
    operation_type: 'customized',
    operations: [{ service_type: 'IMS', resource_type: 'image', trace_names: ['deleteImage'] }],
    topic_id: urn,
  })
  assert.equal(made.body.notification_type, 'fun')
  const sent = trace('A', 204)
  await ingest(app, [sent, trace('A', 201, 'createImage')])
  await until('the function call', () => fn.received.length === 1)
  const event = JSON.parse(fn.received[0]?.body ?? '{}') as {
    cts: { trace_id: string; user: unknown }
  }
  assert.equal(event.cts.trace_id, sent.trace_id)
  assert.equal(typeof event.cts.user, 'object')
  assert.ok(
    verifyDelivery(
      bound.body.secret,
      {
        timestamp: fn.received[0]?.headers['x-opencts-timestamp'] as string,
        signature: fn.received[0]?.headers['x-opencts-signature'] as string,
      },
      fn.received[0]?.body ?? '',
      app.clock.now(),
    ),
  )
})

it('validates topics, subscriptions and functions with clear errors', async (t) => {
  const app = await setup(t)
  const bad = async (method: 'POST' | 'DELETE' | 'GET', url: string, body?: unknown) =>
    (await call(app.app, method, url, body)).body.error_code
  assert.equal(await bad('POST', `/v3/${P}/topics`, { name: 'bad name' }), 'OCTS.0150')
  assert.equal((await call(app.app, 'POST', `/v3/${P}/topics`, { name: 't1' })).status, 201)
  assert.equal(await bad('POST', `/v3/${P}/topics`, { name: 't1' }), 'OCTS.0151')
  assert.equal(
    await bad('POST', `/v3/${P}/topics/t1/subscriptions`, { protocol: 'sms', endpoint: '1' }),
    'OCTS.0150',
  )
  assert.equal(
    await bad('POST', `/v3/${P}/topics/t1/subscriptions`, {
      protocol: 'https',
      endpoint: 'http://x/',
    }),
    'OCTS.0150',
  )
  assert.equal(
    await bad('POST', `/v3/${P}/topics/t1/subscriptions`, { protocol: 'email', endpoint: 'nope' }),
    'OCTS.0150',
  )
  assert.equal(
    await bad('POST', `/v3/${P}/topics/missing/subscriptions`, {
      protocol: 'email',
      endpoint: 'a@b.io',
    }),
    'OCTS.0152',
  )
  assert.equal(
    await bad('POST', `/v3/${P}/functions`, { function_urn: 'urn:x', endpoint: 'http://a/' }),
    'OCTS.0150',
  )
  assert.equal(await bad('GET', `/v3/${P}/deliveries?status=lost`), 'OCTS.0150')
  const mail = await call(app.app, 'POST', `/v3/${P}/topics/t1/subscriptions`, {
    protocol: 'email',
    endpoint: 'ops@example.com',
  })
  assert.equal(mail.status, 201)
  const listed = await call(app.app, 'GET', `/v3/${P}/topics/t1/subscriptions`)
  assert.equal(listed.body.subscriptions.length, 1)
  assert.equal(listed.body.subscriptions[0].secret, undefined, 'the secret is shown once only')
  assert.equal((await call(app.app, 'DELETE', `/v3/${P}/topics/t1`)).status, 204)
  assert.equal(await bad('DELETE', `/v3/${P}/topics/t1`), 'OCTS.0152')
})

it('emails an email subscription through a real SMTP server on loopback', async (t) => {
  const mails: { to: string[]; text: string }[] = []
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, done) {
      const parts: Buffer[] = []
      stream.on('data', (c: Buffer) => parts.push(c))
      stream.on('end', () => {
        mails.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          text: Buffer.concat(parts).toString('utf8'),
        })
        done()
      })
    },
  })
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => smtp.close(() => resolve())))
  const port = (smtp.server.address() as AddressInfo).port
  const sender = new EmailSender({
    host: '127.0.0.1',
    port,
    secure: false,
    requireTls: false,
    from: 'opencts@localhost',
  })
  t.after(() => sender.close())
  const holder: { app?: TestApp } = {}
  const app = await setup(t, {}, (delivery) => {
    const traces = holder.app?.services.store.traces
    assert.ok(traces)
    return emailPort(sender, traces)(delivery)
  })
  holder.app = app
  await call(app.app, 'POST', `/v3/${P}/topics`, { name: 'mail-alerts' })
  const sub = await call(app.app, 'POST', `/v3/${P}/topics/mail-alerts/subscriptions`, {
    protocol: 'email',
    endpoint: 'ops@example.com',
  })
  assert.equal(sub.status, 201)
  const urn = `urn:smn:local-1:${P}:mail-alerts`
  await call(app.app, 'POST', `/v3/${P}/notifications`, {
    notification_name: 'mail_deletes',
    operation_type: 'customized',
    operations: [{ service_type: 'IMS', resource_type: 'image', trace_names: ['deleteImage'] }],
    topic_id: urn,
  })
  const sent = trace('alice', 204)
  await ingest(app, [sent])
  await until('the email', () => mails.length === 1)
  assert.deepEqual(mails[0]?.to, ['ops@example.com'])
  assert.match(mails[0]?.text ?? '', /Subject: \[OpenCTS\] deleteImage/)
  assert.ok(mails[0]?.text.includes(String(sent.trace_id)), 'the body carries the trace')
})

it('delivers over HTTPS to a receiver whose CA is in OPENCTS_DELIVERY_CA_FILE, and not without it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'opencts-https-'))
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { encoding: 'utf8' },
  )
  if (made.status !== 0) {
    t.skip(`openssl cannot make a test certificate: ${made.stderr || String(made.error)}`)
    return
  }
  const bodies: string[] = []
  const server = createHttpsServer(
    { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
    (req, res) => {
      const parts: Buffer[] = []
      req.on('data', (c: Buffer) => parts.push(c))
      req.on('end', () => {
        bodies.push(Buffer.concat(parts).toString('utf8'))
        res.writeHead(204).end()
      })
    },
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/hook`

  const untrusting = await setup(t)
  const { urn: plainUrn } = await topicWith(untrusting, 'tls-alerts', url, 'https')
  await call(untrusting.app, 'POST', `/v3/${P}/notifications`, {
    notification_name: 'tls_all',
    operation_type: 'complete',
    topic_id: plainUrn,
  })
  await ingest(untrusting, [trace('A', 200, 'createImage')])
  await until('a failed TLS attempt', async () => {
    const list = (await call(untrusting.app, 'GET', `/v3/${P}/deliveries?status=pending`)).body
      .deliveries as { attempts: number; last_error: string | null }[]
    return list.some((d) => d.attempts >= 1 && /certificate/i.test(d.last_error ?? ''))
  })
  await untrusting.services.delivery.stop()
  assert.equal(bodies.length, 0, 'an unknown CA is refused')

  const trusting = await setup(t, { deliveryCaFile: join(dir, 'cert.pem') })
  const { urn } = await topicWith(trusting, 'tls-alerts', url, 'https')
  await call(trusting.app, 'POST', `/v3/${P}/notifications`, {
    notification_name: 'tls_all',
    operation_type: 'complete',
    topic_id: urn,
  })
  const sent = trace('A', 200, 'createImage')
  await ingest(trusting, [sent])
  await until('the HTTPS delivery', () => bodies.some((b) => b.includes(String(sent.trace_id))))
})
