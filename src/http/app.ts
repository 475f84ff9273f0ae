/**
 * @module http/app
 * The Fastify application: every API family registered explicitly, CTS error bodies for every
 * failure, one structured JSON log line per request (no secrets), and `GET /openapi.json`.
 * `buildApp` does not listen; tests drive it with `inject`.
 */
import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyInstance } from 'fastify'
import { OpenCtsError, ctsError } from '../errors/index.js'
import { MAX_BATCH_BYTES, deepNestingMessage, findDeepNesting } from '../model/index.js'
import type { HttpServices } from '../services.js'
import { errorHandler, sendError, toOpenCtsError } from './error-handler.js'
import { OpenApiCollector } from './openapi.js'
import { registerBodyParsers } from './body-parsers.js'
import { registerAuthentication } from './authenticate.js'
import { registerAuthRoutes } from './routes/auth.js'
import { registerHealthRoutes } from './routes/health.js'
import { registerCatalogueRoutes } from './routes/catalogue.js'
import { registerDigestKeyRoutes } from './routes/digest-keys.js'
import { registerLogRoutes } from './routes/log.js'
import { registerIngestRoutes } from './routes/ingest.js'
import { registerMetricsRoutes } from './routes/metrics.js'
import { registerRequestMetrics } from './request-metrics.js'
import { registerNotificationRoutes } from './routes/notifications.js'
import { registerTagRoutes } from './routes/tags.js'
import { registerTopicRoutes } from './routes/topics.js'
import { registerAlarmRoutes } from './routes/alarms.js'
import { registerTrackerRoutes } from './routes/trackers.js'
import { registerTraceRoutes } from './routes/traces.js'
import { registerVersionRoutes } from './routes/versions.js'
import { registerConsoleRoutes } from './routes/console.js'
import { registerExportRoutes } from './routes/export.js'
import { OPENCTS_VERSION } from '../version.js'
import { registerActivityRoutes } from './routes/activity.js'
import { registerStatisticsRoutes } from './routes/statistics.js'
import { registerResourceHistoryRoutes } from './routes/resource-history.js'
import { registerInsightRoutes } from './routes/insights.js'
import { answerServerRefusals, clientErrorHandler } from './client-errors.js'
import { PUSHBACK_RETRY_AFTER_SECONDS, registerBodyIntake } from './body-intake.js'

export { OPENCTS_VERSION }

export interface AppOptions {
  /** Pino log level, or false for no logging (tests). */
  readonly logLevel?: string | false
  /** Where log lines go (default stdout). */
  readonly logStream?: NodeJS.WritableStream
}

export async function buildApp(
  services: HttpServices,
  options: AppOptions = {},
): Promise<FastifyInstance> {
  const logLevel = options.logLevel ?? false
  const { headersTimeoutMs, requestTimeoutMs } = services.config
  const app = Fastify({
    logger:
      logLevel === false
        ? false
        : {
            level: logLevel,
            redact: [
              'req.headers.authorization',
              'req.headers["x-auth-token"]',
              'req.headers["x-subject-token"]',
              'req.headers.cookie',
            ],
            ...(options.logStream === undefined ? {} : { stream: options.logStream }),
          },
    // One line per request comes from our onResponse hook instead.
    logController: new LogController({ disableRequestLogging: true }),
    frameworkErrors: (error, _request, reply) => {
      void sendError(toOpenCtsError(error), reply)
    },
    bodyLimit: MAX_BATCH_BYTES,
    // Finite time to send a request (docs/api.md "Limits"); late ones get 408 OCTS.0104.
    requestTimeout: requestTimeoutMs,
    http: {
      headersTimeout: headersTimeoutMs,
      requestTimeout: requestTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeoutMs / 4))),
      // A request without Host is refused with a CTS body by the hook below, not an empty 400.
      requireHostHeader: false,
    },
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,128}$/.test(given)
        ? given
        : randomUUID()
    },
    ajv: {
      customOptions: {
        coerceTypes: false,
        removeAdditional: false,
        useDefaults: false,
        allErrors: false,
      },
    },
    // Requests arriving while closing get a CTS 503 from the hook below.
    return503OnClosing: false,
    clientErrorHandler,
    forceCloseConnections: true,
  })
  answerServerRefusals(app.server)
  registerBodyParsers(app, MAX_BATCH_BYTES)
  const openapi = new OpenApiCollector()
  app.addHook('onRoute', (route) => openapi.onRoute(route))
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  app.addHook('onRequest', async (request, reply) => {
    if (closing)
      throw new OpenCtsError('OCTS_ERR_PUSHBACK', {
        message: 'The server is shutting down; retry the request.',
        retryAfter: PUSHBACK_RETRY_AFTER_SECONDS,
      })
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      void reply.header('connection', 'close')
      throw new OpenCtsError('OCTS_ERR_MALFORMED_REQUEST', {
        message: 'The request is not valid HTTP/1.1: no Host header.',
      })
    }
  })
  registerAuthentication(app, services)
  registerBodyIntake(app, {
    maxInFlightBodyBytes: services.config.maxInFlightBodyBytes,
    bodyLimit: MAX_BATCH_BYTES,
  })
  app.setErrorHandler(errorHandler)
  // Every JSON body nests at most MAX_JSON_DEPTH levels: deeper, the recursive code downstream
  // (JSON.stringify, the canonical encoder) would overflow the stack. Checked iteratively, after
  // authentication and before the route's schema, for every route and method.
  app.addHook('preValidation', async (request) => {
    const violation = findDeepNesting(request.body)
    if (violation !== undefined)
      throw ctsError('OCTS_ERR_INVALID_BODY', deepNestingMessage(violation))
  })
  app.setNotFoundHandler((request, reply) =>
    sendError(
      new OpenCtsError('OCTS_ERR_ROUTE_NOT_FOUND', {
        message: `No API at ${request.method} ${request.url.split('?')[0] ?? ''}.`,
      }),
      reply,
    ),
  )
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id)
  })
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? null,
        path: request.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        ip: request.ip,
        user: request.principal?.user.name ?? null,
        ak: request.principal?.accessKeyId ?? null,
      },
      'request',
    )
  })
  registerRequestMetrics(app, services.metrics)
  // Register a project on its first use ("Enable CTS": creates its `system` tracker).
  app.addHook('preHandler', async (request) => {
    const params = request.params as { project_id?: unknown } | undefined
    if (
      typeof params?.project_id === 'string' &&
      request.routeOptions.config.projectScoped === true
    ) {
      await services.projects.ensure(params.project_id)
    }
  })

  registerVersionRoutes(app)
  registerAuthRoutes(app, services)
  registerHealthRoutes(app, services)
  registerMetricsRoutes(app, services, OPENCTS_VERSION)
  registerIngestRoutes(app, services)
  registerTraceRoutes(app, services)
  registerTrackerRoutes(app, services)
  registerNotificationRoutes(app, services)
  registerCatalogueRoutes(app, services)
  registerTagRoutes(app, services)
  registerTopicRoutes(app, services)
  registerAlarmRoutes(app, services)
  registerDigestKeyRoutes(app, services)
  registerLogRoutes(app, services)
  registerExportRoutes(app, services)
  registerActivityRoutes(app, services)
  registerStatisticsRoutes(app, services)
  registerResourceHistoryRoutes(app, services)
  registerInsightRoutes(app, services)
  registerConsoleRoutes(app)

  app.get('/openapi.json', { config: { auth: 'public' }, schema: { hide: true } }, async () =>
    openapi.document(OPENCTS_VERSION),
  )
  await app.ready()
  return app
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route acts on `:project_id`; the project is registered on first use. */
    projectScoped?: boolean
  }
}
