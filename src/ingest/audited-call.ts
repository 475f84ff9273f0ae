/**
 * @module ingest/audited-call
 * Self-audit of the configuration APIs (spec §14.3): every create/update/delete call leaves exactly
 * the audit traces describing it, whether it succeeds or fails.
 *
 * - Success: the operation builds its audit traces with `scope.success(...)` and hands them to the
 *   ConfigStore mutation, which commits them in the same transaction as the change. They are
 *   published after the operation resolves.
 * - Failure: when the operation throws, one trace with the error's HTTP status as `code` and the
 *   CTS error body as `response` (rating `warning`, code ≥ 400) is committed and published
 *   (`commitTraces`); then the original error is rethrown unchanged. A value that is not an
 *   OpenCtsError is audited as OCTS_ERR_INTERNAL (500). Recording a failure is best effort: if the
 *   store cannot take the failure trace either (it is usually the store that failed), the original
 *   error is still what the caller sees.
 */
import { OpenCtsError, isOpenCtsError } from '../errors/index.js'
import { commitChange, commitTraces } from './commit.js'
import type { Publisher } from './publisher.js'
import type { Caller, SelfAudit } from './self-audit.js'
import type { TraceRecord } from '../model/index.js'
import type { TraceStore } from '../store/index.js'

/** What a service method answers; the HTTP layer sends `body` as JSON (none when undefined). */
export interface ServiceResult {
  readonly status: number
  readonly body?: unknown
}

export interface AuditedCallDeps {
  readonly traces: TraceStore
  readonly audit: SelfAudit
  readonly publisher: Publisher
}

/** The parts of an audit trace known before the operation runs. */
export interface AuditedCall {
  readonly projectId: string
  /** e.g. `createTracker`. */
  readonly traceName: string
  /** e.g. `tracker`, `notification`. */
  readonly resourceType: string
  /** The request body (or query) as received. */
  readonly request: unknown
  readonly caller: Caller
  /** `v3` unless given (`v1.0` for the legacy tracker API). */
  readonly apiVersion?: string
}

export interface AuditOutcome {
  readonly code: number
  readonly response?: unknown
  readonly resourceId?: string | null
  readonly resourceName?: string | null
}

/** Collects the success traces of one call and remembers the resource for a failure trace. */
export class AuditScope {
  readonly #audit: SelfAudit
  readonly #call: AuditedCall
  readonly #traces: TraceRecord[] = []
  #resourceId: string | null = null
  #resourceName: string | null = null

  constructor(audit: SelfAudit, call: AuditedCall) {
    this.#audit = audit
    this.#call = call
  }

  /** Names the resource the call acts on, as far as known, for the failure trace. */
  describe(resourceId: string | null, resourceName: string | null): void {
    this.#resourceId = resourceId
    this.#resourceName = resourceName
  }

  /**
   * Builds one success trace (the call may build several, e.g. one per deleted tracker) and returns
   * every trace built so far: pass it to the ConfigStore mutation.
   */
  success(outcome: AuditOutcome): readonly TraceRecord[] {
    this.#traces.push(this.trace(outcome))
    return [...this.#traces]
  }

  /** The traces built by `success`. */
  get built(): readonly TraceRecord[] {
    return this.#traces
  }

  /** One trace of this call with the given outcome; the resource defaults to `describe`'s. */
  trace(outcome: AuditOutcome): TraceRecord {
    return this.#audit.trace({
      projectId: this.#call.projectId,
      traceName: this.#call.traceName,
      resourceType: this.#call.resourceType,
      resourceId: outcome.resourceId === undefined ? this.#resourceId : outcome.resourceId,
      resourceName: outcome.resourceName === undefined ? this.#resourceName : outcome.resourceName,
      request: this.#call.request,
      response: outcome.response,
      code: outcome.code,
      caller: this.#call.caller,
      ...(this.#call.apiVersion === undefined ? {} : { apiVersion: this.#call.apiVersion }),
    })
  }
}

/**
 * Runs `operation` with the self-audit contract of this module. The operation must commit the
 * traces of `scope.success` with its store mutation; they are published when it resolves.
 * Rethrows whatever the operation throws, after recording the failure.
 */
export async function runAudited(
  deps: AuditedCallDeps,
  call: AuditedCall,
  operation: (scope: AuditScope) => Promise<ServiceResult>,
): Promise<ServiceResult> {
  const scope = new AuditScope(deps.audit, call)
  try {
    return await commitChange(
      deps.publisher,
      () => operation(scope),
      () => scope.built,
    )
  } catch (error) {
    await recordFailure(deps, scope, error)
    throw error
  }
}

async function recordFailure(
  deps: AuditedCallDeps,
  scope: AuditScope,
  error: unknown,
): Promise<void> {
  const known = isOpenCtsError(error) ? error : new OpenCtsError('OCTS_ERR_INTERNAL')
  const trace = scope.trace({ code: known.httpStatus, response: known.toBody() })
  try {
    await commitTraces(deps, [trace])
  } catch {
    // Best effort (module header): the caller must see the original error, not this one.
  }
}
