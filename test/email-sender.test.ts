/**
 * The email sender against a real SMTP server on loopback (smtp-server): what arrives, AUTH,
 * permanent and temporary refusals, a server that is down or silent, STARTTLS and implicit TLS
 * with a certificate trusted only through `caFile`.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { SMTPServer, type SMTPServerOptions } from 'smtp-server'
import {
  EmailError,
  EmailSender,
  formatTraceEmail,
  type EmailSettings,
} from '../src/delivery/email-sender.js'
import { makeTrace } from './helpers/make-trace.js'

interface Received {
  readonly mailFrom: string
  readonly rcptTo: string[]
  readonly secure: boolean
  readonly user: unknown
  readonly raw: string
}

interface TestSmtp {
  readonly port: number
  readonly messages: Received[]
  /** AUTH attempts: method, user name, password. */
  readonly logins: { method: string; username: string; password: string }[]
}

const USER = 'mailer'
const PASSWORD = 'S3cret-pass'

function smtpError(responseCode: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode })
}

/** Starts smtp-server on 127.0.0.1, port 0; it is closed after the test. */
async function startSmtp(t: TestContext, options: SMTPServerOptions = {}): Promise<TestSmtp> {
  const messages: Received[] = []
  const logins: TestSmtp['logins'] = []
  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      logins.push({
        method: auth.method,
        username: auth.username ?? '',
        password: auth.password ?? '',
      })
      if (auth.username === USER && auth.password === PASSWORD) callback(null, { user: USER })
      else callback(smtpError(535, '5.7.8 Authentication credentials invalid'))
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        messages.push({
          mailFrom: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          secure: session.secure,
          user: session.user,
          raw: Buffer.concat(chunks).toString('utf8'),
        })
        callback()
      })
    },
    ...options,
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.server.address() as AddressInfo
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { port, messages, logins }
}

function sender(t: TestContext, settings: Partial<EmailSettings>, timeoutMs?: number): EmailSender {
  const email = new EmailSender(
    {
      host: '127.0.0.1',
      port: 25,
      secure: false,
      requireTls: false,
      from: 'cts@example.com',
      ...settings,
    },
    timeoutMs === undefined ? {} : { timeoutMs },
  )
  t.after(() => email.close())
  return email
}

/** Headers (lowercase names, unfolded) and the decoded body of a raw message. */
function parse(raw: string): { headers: Map<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n')
  const headers = new Map<string, string>()
  for (const line of raw
    .slice(0, split)
    .replace(/\r\n[ \t]+/g, ' ')
    .split('\r\n')) {
    const colon = line.indexOf(':')
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim())
  }
  let body = raw.slice(split + 4)
  const encoding = headers.get('content-transfer-encoding')
  if (encoding === 'quoted-printable')
    body = Buffer.from(
      body
        .replace(/=\r\n/g, '')
        .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
      'latin1',
    ).toString('utf8')
  else if (encoding === 'base64') body = Buffer.from(body, 'base64').toString('utf8')
  return { headers, body: body.replace(/\r\n/g, '\n') }
}

async function rejection(promise: Promise<unknown>): Promise<EmailError> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof EmailError, `an EmailError, got ${String(error)}`)
    return error
  }
  assert.fail('the send succeeded, want an EmailError')
}

/** A loopback port nobody listens on (it was free a moment ago). */
async function deadPort(): Promise<number> {
  const probe = createTcpServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  return port
}

describe('EmailSender, plain SMTP', () => {
  it('delivers the trace email with From, To, Subject, the OpenCTS headers and the body', async (t) => {
    const smtp = await startSmtp(t)
    const email = sender(t, { port: smtp.port })
    const content = formatTraceEmail(
      makeTrace({ trace_name: 'deleteImage', trace_rating: 'warning', request: 'x'.repeat(300) }),
      'key-ops',
      'delivery-1',
    )
    const { messageId } = await email.send({ to: 'ops@example.com', ...content })

    assert.equal(smtp.messages.length, 1)
    const [received] = smtp.messages
    assert.ok(received)
    assert.equal(received.mailFrom, 'cts@example.com')
    assert.deepEqual(received.rcptTo, ['ops@example.com'])
    const { headers, body } = parse(received.raw)
    assert.equal(headers.get('from'), 'cts@example.com')
    assert.equal(headers.get('to'), 'ops@example.com')
    assert.equal(headers.get('subject'), '[OpenCTS] deleteImage on image ubuntu (warning) by alice')
    assert.equal(headers.get('x-opencts-delivery-id'), 'delivery-1')
    assert.equal(headers.get('x-opencts-notification'), 'key-ops')
    assert.equal(headers.get('message-id'), messageId)
    assert.match(headers.get('content-type') ?? '', /^text\/plain/)
    assert.equal(body.trimEnd(), content.text.trimEnd())
  })

  it('strips CR/LF from the subject and header values it is given', async (t) => {
    const smtp = await startSmtp(t)
    const email = sender(t, { port: smtp.port })
    await email.send({
      to: 'ops@example.com',
      subject: 'hello\r\nBcc: victim@example.com',
      text: 'body',
      headers: { 'X-Test': 'a\r\nX-Injected: 1' },
    })
    const { headers } = parse(smtp.messages[0]?.raw ?? '')
    assert.equal(headers.get('subject'), 'hello Bcc: victim@example.com')
    assert.equal(headers.get('x-test'), 'a X-Injected: 1')
    assert.equal(headers.has('bcc'), false)
    assert.equal(headers.has('x-injected'), false)
    assert.deepEqual(smtp.messages[0]?.rcptTo, ['ops@example.com'])
  })

  it('refuses an invalid recipient or header name as permanent, without sending', async (t) => {
    const smtp = await startSmtp(t)
    const email = sender(t, { port: smtp.port })
    for (const to of ['not an address', 'a@example.com\r\nRCPT TO:<b@example.com>', 'a@x, b@y', ''])
      assert.equal((await rejection(email.send({ to, subject: 's', text: 't' }))).permanent, true)
    const bad = email.send({
      to: 'a@example.com',
      subject: 's',
      text: 't',
      headers: { 'X: y': '1' },
    })
    assert.equal((await rejection(bad)).permanent, true)
    assert.equal(smtp.messages.length, 0)
  })

  for (const method of ['PLAIN', 'LOGIN']) {
    it(`signs in with AUTH ${method}`, async (t) => {
      const smtp = await startSmtp(t, { authOptional: false, authMethods: [method] })
      const email = sender(t, { port: smtp.port, user: USER, password: PASSWORD })
      await email.send({ to: 'ops@example.com', subject: 's', text: 't' })
      assert.deepEqual(smtp.logins, [{ method, username: USER, password: PASSWORD }])
      assert.equal(smtp.messages[0]?.user, USER)
    })
  }

  it('a wrong password is permanent (535), and the error never shows the password', async (t) => {
    const smtp = await startSmtp(t, { authOptional: false })
    const email = sender(t, { port: smtp.port, user: USER, password: 'wrong-password' })
    const error = await rejection(email.send({ to: 'ops@example.com', subject: 's', text: 't' }))
    assert.equal(error.permanent, true)
    assert.equal(error.responseCode, 535)
    assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${smtp.port}`))
    assert.match(error.message, /535 5\.7\.8 Authentication credentials invalid/)
    for (const secret of [
      'wrong-password',
      Buffer.from('wrong-password').toString('base64'),
      Buffer.from(`\0${USER}\0wrong-password`).toString('base64'),
    ])
      assert.ok(!error.message.includes(secret), error.message)
    assert.equal(smtp.messages.length, 0)
  })

  it('a recipient refused with 550 is permanent, with 451 temporary', async (t) => {
    const smtp = await startSmtp(t, {
      onRcptTo(address, _session, callback) {
        if (address.address.startsWith('gone@')) callback(smtpError(550, '5.1.1 No such user here'))
        else if (address.address.startsWith('busy@'))
          callback(smtpError(451, '4.3.0 Try again later'))
        else callback()
      },
    })
    const email = sender(t, { port: smtp.port })
    const gone = await rejection(email.send({ to: 'gone@example.com', subject: 's', text: 't' }))
    assert.equal(gone.permanent, true)
    assert.equal(gone.responseCode, 550)
    assert.match(gone.message, /550 5\.1\.1 No such user here/)
    assert.match(gone.message, new RegExp(`127\\.0\\.0\\.1:${smtp.port}`))
    const busy = await rejection(email.send({ to: 'busy@example.com', subject: 's', text: 't' }))
    assert.equal(busy.permanent, false)
    assert.equal(busy.responseCode, 451)
    assert.match(busy.message, /451 4\.3\.0 Try again later/)
    assert.equal(smtp.messages.length, 0)
  })

  it('a server that is down is temporary, and fails fast', async (t) => {
    const port = await deadPort()
    const email = sender(t, { port })
    const started = Date.now()
    const error = await rejection(email.send({ to: 'ops@example.com', subject: 's', text: 't' }))
    assert.equal(error.permanent, false)
    assert.equal(error.responseCode, undefined)
    assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}.*ECONNREFUSED`))
    assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`)
  })

  it('a server that never greets is temporary once the timeout passes', async (t) => {
    const sockets = new Set<Socket>()
    const silent = createTcpServer((socket) => sockets.add(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    t.after(() => {
      for (const socket of sockets) socket.destroy()
      silent.close()
    })
    const { port } = silent.address() as AddressInfo
    const email = sender(t, { port }, 300)
    const started = Date.now()
    const error = await rejection(email.send({ to: 'ops@example.com', subject: 's', text: 't' }))
    assert.equal(error.permanent, false)
    assert.match(error.message, /ETIMEDOUT/)
    assert.ok(Date.now() - started < 3_000, `took ${Date.now() - started} ms`)
  })

  it('refuses to build with an unreadable CA file (permanent)', () => {
    assert.throws(
      () =>
        new EmailSender({
          host: '127.0.0.1',
          port: 25,
          secure: false,
          requireTls: false,
          from: 'cts@example.com',
          caFile: '/nonexistent/ca.pem',
        }),
      (error) => error instanceof EmailError && error.permanent && /ca\.pem/.test(error.message),
    )
  })
})

const hasOpenssl = spawnSync('openssl', ['version']).status === 0

describe('EmailSender over TLS', { skip: hasOpenssl ? false : 'openssl is not installed' }, () => {
  /** A self-signed certificate for 127.0.0.1 and localhost, made with openssl. */
  function selfSigned(t: TestContext): { key: string; cert: string; caFile: string } {
    const dir = mkdtempSync(join(tmpdir(), 'opencts-smtp-tls-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const keyFile = join(dir, 'key.pem')
    const caFile = join(dir, 'cert.pem')
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
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        keyFile,
        '-out',
        caFile,
      ],
      { encoding: 'utf8' },
    )
    assert.equal(made.status, 0, made.stderr)
    return {
      key: readFileSync(keyFile, 'utf8'),
      cert: readFileSync(caFile, 'utf8'),
      caFile,
    }
  }

  it('upgrades with STARTTLS and authenticates, trusting the server through caFile', async (t) => {
    const { key, cert, caFile } = selfSigned(t)
    const smtp = await startSmtp(t, {
      key,
      cert,
      disabledCommands: [],
      allowInsecureAuth: false,
      authOptional: false,
    })
    const email = sender(t, {
      port: smtp.port,
      requireTls: true,
      caFile,
      user: USER,
      password: PASSWORD,
    })
    await email.send({ to: 'ops@example.com', subject: 'over tls', text: 't' })
    assert.equal(smtp.messages.length, 1)
    assert.equal(smtp.messages[0]?.secure, true)
    assert.equal(smtp.messages[0]?.user, USER)
  })

  it('without caFile the self-signed certificate is refused (temporary)', async (t) => {
    const { key, cert } = selfSigned(t)
    const smtp = await startSmtp(t, { key, cert, disabledCommands: [] })
    const email = sender(t, { port: smtp.port, requireTls: true })
    const error = await rejection(email.send({ to: 'ops@example.com', subject: 's', text: 't' }))
    assert.equal(error.permanent, false)
    assert.match(error.message, /certificate/i)
    assert.equal(smtp.messages.length, 0)
  })

  it('requireTls fails when the server offers no STARTTLS', async (t) => {
    const smtp = await startSmtp(t)
    const email = sender(t, { port: smtp.port, requireTls: true })
    const error = await rejection(email.send({ to: 'ops@example.com', subject: 's', text: 't' }))
    assert.match(error.message, /STARTTLS/)
    assert.equal(error.permanent, true, 'the server answered 500: it has no STARTTLS')
    assert.equal(smtp.messages.length, 0)
  })

  it('speaks implicit TLS with secure', async (t) => {
    const { key, cert, caFile } = selfSigned(t)
    const smtp = await startSmtp(t, { key, cert, secure: true })
    const email = sender(t, { port: smtp.port, secure: true, caFile })
    await email.send({ to: 'ops@example.com', subject: 'smtps', text: 't' })
    assert.equal(smtp.messages[0]?.secure, true)
  })
})
