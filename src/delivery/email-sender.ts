/**
 * @module delivery/email-sender
 * Email delivery of key-event notifications over SMTP (nodemailer, the only module that imports
 * it), and the pure formatting of a trace into an email.
 *
 * Contract of `EmailSender.send`: one SMTP connection per message (no pool), every wait bounded
 * (connect, greeting, idle socket: 10 s by default). It resolves once the server accepted the
 * message, else throws `EmailError`:
 * - `permanent: true`: the server refused for good (5xx answers, e.g. 535 wrong password, 550
 *   unknown recipient; 503 excepted, as nodemailer does), or the recipient or a header is invalid
 *   before anything is sent. Retrying the same message gets the same answer.
 * - `permanent: false`: connection refused or lost, DNS, TLS and timeouts, 4xx answers (e.g. 451).
 * The message names the server and its SMTP answer, never the password.
 */
import { readFileSync } from 'node:fs'
import { rootCertificates } from 'node:tls'
import { createTransport, type NodemailerError, type Transporter } from 'nodemailer'
import type { OpenCtsConfig } from '../config/config.js'
import { toApiTrace, type TraceRecord } from '../model/index.js'

/** Where and how to send (from `OPENCTS_SMTP_*`). */
export interface EmailSettings {
  readonly host: string
  readonly port: number
  /** Implicit TLS from the first byte (usually port 465). */
  readonly secure: boolean
  /** Fail unless the server upgrades with STARTTLS (otherwise STARTTLS is used when offered). */
  readonly requireTls: boolean
  /** AUTH (PLAIN or LOGIN, as the server offers) when given, together with `password`. */
  readonly user?: string
  readonly password?: string
  /** The From address, e.g. `opencts@example.com` or `OpenCTS <opencts@example.com>`. */
  readonly from: string
  /** PEM file of a CA trusted for the server certificate, besides Node's bundled roots. */
  readonly caFile?: string
}

/** Tuning, mostly for tests. */
export interface EmailSenderTuning {
  /** Limit of the connection, of the server greeting and of an idle socket, ms (default 10 000). */
  readonly timeoutMs?: number
}

/** What is sent: one recipient, a plain-text body and extra headers. */
export interface EmailMessage {
  readonly to: string
  readonly subject: string
  readonly text: string
  readonly headers?: Readonly<Record<string, string>>
}

/** An email made from a trace, still without recipient (`send({ to, ...content })`). */
export interface EmailContent {
  readonly subject: string
  readonly text: string
  readonly headers: Readonly<Record<string, string>>
}

export class EmailError extends Error {
  override readonly name = 'EmailError'
  /** True when retrying the same message cannot succeed (see the module contract). */
  readonly permanent: boolean
  /** The SMTP reply code of the refusal, when the server answered one. */
  readonly responseCode: number | undefined

  constructor(message: string, permanent: boolean, responseCode?: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause })
    this.permanent = permanent
    this.responseCode = responseCode
  }
}

const DEFAULT_TIMEOUT_MS = 10_000
const HEADER_NAME = /^[A-Za-z0-9-]+$/
/** One bare address: no display name, spaces, list separators or line breaks. */
const ADDRESS = /^[^\s@<>,;"]+@[^\s@<>,;"]+$/

/** Sends notification emails through one SMTP server. */
export class EmailSender {
  readonly #server: string
  readonly #from: string
  readonly #secrets: readonly string[]
  readonly #transport: Transporter
  #closed = false

  /** Reads `caFile` now: throws EmailError (permanent) when it cannot be read. */
  constructor(settings: EmailSettings, tuning: EmailSenderTuning = {}) {
    this.#server = `${settings.host}:${settings.port}`
    this.#from = settings.from
    const timeout = tuning.timeoutMs ?? DEFAULT_TIMEOUT_MS
    const user = settings.user ?? ''
    const password = settings.password ?? ''
    this.#secrets =
      password === ''
        ? []
        : [
            password,
            Buffer.from(password).toString('base64'),
            Buffer.from(`\0${user}\0${password}`).toString('base64'),
          ]
    this.#transport = createTransport({
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      requireTLS: settings.requireTls,
      ...(user === '' ? {} : { auth: { user, pass: password } }),
      ...(settings.caFile === undefined || settings.caFile === ''
        ? {}
        : { tls: { ca: [...rootCertificates, readCa(settings.caFile)] } }),
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      dnsTimeout: timeout,
      logger: false,
      debug: false,
    })
  }

  /** Sends one message; resolves with its Message-ID once the server accepted it. */
  async send(message: EmailMessage): Promise<{ messageId: string }> {
    if (this.#closed) throw new EmailError(`email sender for ${this.#server} is closed`, false)
    if (!ADDRESS.test(message.to))
      throw new EmailError(`invalid recipient ${JSON.stringify(message.to)}`, true)
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(message.headers ?? {})) {
      if (!HEADER_NAME.test(name))
        throw new EmailError(`invalid header name ${JSON.stringify(name)}`, true)
      headers[name] = oneLine(value)
    }
    try {
      const info = (await this.#transport.sendMail({
        from: this.#from,
        to: message.to,
        subject: oneLine(message.subject),
        text: message.text,
        headers,
      })) as { messageId: string }
      return { messageId: info.messageId }
    } catch (error) {
      throw this.#failure(error)
    }
  }

  /** Releases the transport; later sends fail (temporary). */
  close(): void {
    this.#closed = true
    this.#transport.close()
  }

  #failure(error: unknown): EmailError {
    const err = (error ?? {}) as NodemailerError
    const code = typeof err.responseCode === 'number' ? err.responseCode : undefined
    const answer = typeof err.response === 'string' && err.response !== '' ? err.response : ''
    const what = answer === '' ? String(err.message) : answer
    const command =
      typeof err.command === 'string' && !['API', 'CONN'].includes(err.command) ? err.command : ''
    let text = `SMTP server ${this.#server}${command === '' ? '' : ` (${command})`}: ${what}`
    if (typeof err.code === 'string') text += ` [${err.code}]`
    for (const secret of this.#secrets) text = text.split(secret).join('***')
    return new EmailError(oneLine(text), isPermanent(err, code), code, error)
  }
}

/**
 * 5xx answers (but 503, a bad command sequence) are permanent; so are errors nodemailer raises
 * without an answer for a bad envelope, configuration or credentials (no AUTH method in common).
 */
function isPermanent(err: NodemailerError, code: number | undefined): boolean {
  if (code !== undefined) return code >= 500 && code <= 599 && code !== 503
  return ['EENVELOPE', 'ECONFIG', 'EAUTH', 'ENOAUTH'].includes(err.code ?? '')
}

function readCa(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new EmailError(`cannot read the SMTP CA file ${file}: ${reason}`, true, undefined, error)
  }
}

/** The email settings of a configuration; undefined when email is off (no SMTP host). */
export function emailSettingsFromConfig(config: OpenCtsConfig): EmailSettings | undefined {
  if (config.smtpHost === '') return undefined
  return {
    host: config.smtpHost,
    port: config.smtpPort,
    secure: config.smtpSecure,
    requireTls: config.smtpRequireTls,
    from: config.smtpFrom,
    ...(config.smtpUser === '' ? {} : { user: config.smtpUser, password: config.smtpPassword }),
    ...(config.smtpCaFile === '' ? {} : { caFile: config.smtpCaFile }),
  }
}

/** Control characters (CR and LF among them) become one space: a value cannot start a header. */
function oneLine(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim()
}

const MAX_SUBJECT = 200

/**
 * The email of a trace matched by a key-event notification (pure). Subject
 * `[OpenCTS] <trace_name> on <resource_type> <resource_name|resource_id> (<rating>) by <user>`
 * (parts without a value left out, at most 200 characters); the body lists the key fields, then
 * the API form of the trace as indented JSON. Headers `X-OpenCTS-Delivery-Id` and
 * `X-OpenCTS-Notification`. No value keeps a CR or LF.
 */
export function formatTraceEmail(
  trace: TraceRecord,
  notificationName: string,
  deliveryId: string,
): EmailContent {
  const resource = trace.resource_name ?? trace.resource_id
  const user = trace.user_name ?? trace.user?.name ?? null
  let subject = oneLine(
    `[OpenCTS] ${trace.trace_name} on ${trace.resource_type}${resource === null ? '' : ` ${resource}`}` +
      ` (${trace.trace_rating})${user === null ? '' : ` by ${user}`}`,
  )
  const chars = [...subject]
  if (chars.length > MAX_SUBJECT) subject = `${chars.slice(0, MAX_SUBJECT - 1).join('')}…`
  const fields: [string, string | null][] = [
    ['Operation', trace.trace_name],
    ['Rating', trace.trace_rating],
    ['Service', trace.service_type],
    [
      'Resource',
      `${trace.resource_type}${trace.resource_name === null ? '' : ` ${trace.resource_name}`}` +
        (trace.resource_id === null ? '' : ` (id ${trace.resource_id})`),
    ],
    ['User', user],
    ['Source IP', trace.source_ip],
    ['Time', `${new Date(trace.time).toISOString()} (UTC)`],
    ['Result code', trace.code],
    ['Trace ID', trace.trace_id],
    ['Project ID', trace.project_id],
    ['Tracker', trace.tracker_name],
    ['Delivery ID', deliveryId],
  ]
  const lines = fields
    .filter((field): field is [string, string] => field[1] !== null)
    .map(([label, value]) => `${`${label}:`.padEnd(13)}${oneLine(value)}`)
  const text = [
    `OpenCTS notification "${oneLine(notificationName)}" matched this key event.`,
    '',
    ...lines,
    '',
    'The full trace:',
    JSON.stringify(toApiTrace(trace), null, 2),
    '',
  ].join('\n')
  return {
    subject,
    text,
    headers: {
      'X-OpenCTS-Delivery-Id': oneLine(deliveryId),
      'X-OpenCTS-Notification': oneLine(notificationName),
    },
  }
}
