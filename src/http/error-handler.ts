/**
 * @module http/error-handler
 * Maps every failure to a CTS error body `{"error_code","error_msg"}` with a 4xx/5xx status:
 * catalogue errors as catalogued, Fastify's own errors (malformed JSON, wrong content type, body too
 * large, schema violations) to the matching catalogue entry. Only unexpected errors answer 500, and
 * their details are logged, never sent.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { OpenCtsError, isOpenCtsError, type ErrorCode } from '../errors/index.js'

function fastifyCode(error: unknown): string | undefined {
  return typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string'
    ? error.code
    : undefined
}

/** Converts any thrown value into an OpenCtsError. */
export function toOpenCtsError(error: unknown): OpenCtsError {
  if (isOpenCtsError(error)) return error
  const fe = error as Partial<FastifyError> & { validationContext?: string }
  if (Array.isArray(fe.validation)) {
    const where = fe.validationContext ?? 'body'
    const code: ErrorCode =
      where === 'querystring'
        ? 'OCTS_ERR_QUERY'
        : where === 'params'
          ? 'OCTS_ERR_PROJECT_ID'
          : 'OCTS_ERR_INVALID_BODY'
    const detail = fe.message ?? 'invalid request'
    const prefix =
      code === 'OCTS_ERR_QUERY'
        ? 'Query failed: '
        : code === 'OCTS_ERR_INVALID_BODY'
          ? 'The message body is invalid: '
          : 'Invalid path parameter: '
    return new OpenCtsError(code, { message: `${prefix}${detail}`, cause: error })
  }
  switch (fastifyCode(error)) {
    case 'FST_ERR_BAD_URL':
      return new OpenCtsError('OCTS_ERR_BAD_URL', { cause: error })
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new OpenCtsError('OCTS_ERR_BATCH_TOO_LARGE', {
        message: 'The request body exceeds 12 MB.',
        cause: error,
      })
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return new OpenCtsError('OCTS_ERR_UNSUPPORTED_MEDIA_TYPE', { cause: error })
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new OpenCtsError('OCTS_ERR_INVALID_BODY', {
        message: 'The message body is empty; send a JSON object.',
        cause: error,
      })
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new OpenCtsError('OCTS_ERR_INVALID_BODY', {
        message: 'The message body is not valid JSON.',
        cause: error,
      })
    default:
      break
  }
  if (error instanceof SyntaxError) {
    return new OpenCtsError('OCTS_ERR_INVALID_BODY', {
      message: `The message body is not valid JSON: ${error.message}`,
      cause: error,
    })
  }
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500
  if (status >= 400 && status < 500) {
    return new OpenCtsError('OCTS_ERR_INVALID_BODY', {
      message: `The request is invalid: ${fe.message ?? 'bad request'}`,
      cause: error,
    })
  }
  return new OpenCtsError('OCTS_ERR_INTERNAL', { cause: error })
}

export function sendError(error: OpenCtsError, reply: FastifyReply): FastifyReply {
  if (error.retryAfter !== undefined) void reply.header('retry-after', String(error.retryAfter))
  return reply.code(error.httpStatus).type('application/json; charset=utf-8').send(error.toBody())
}

export function errorHandler(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const mapped = toOpenCtsError(error)
  // A retryable refusal (503 with Retry-After, e.g. overload) is expected: no stack, no error line.
  if (mapped.httpStatus >= 500 && mapped.retryAfter !== undefined)
    request.log.warn({ code: mapped.code, msg: mapped.message }, 'request refused, retry later')
  else if (mapped.httpStatus >= 500)
    request.log.error({ err: error, code: mapped.code }, 'request failed')
  else request.log.debug({ code: mapped.code, msg: mapped.message }, 'request rejected')
  return sendError(mapped, reply)
}
