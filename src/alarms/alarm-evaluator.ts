/**
 * @module alarms/alarm-evaluator
 * Evaluates every enabled alarm rule every `intervalMs` (OPENCTS_ALARM_INTERVAL), on the one node
 * that holds the `alarms` lease (leased-jobs). For each rule at the evaluation time `now`:
 *
 * 1. the window is [now - period, now) by trace `time`;
 * 2. while data is insufficient (alarm-condition: less than one period since the rule was created
 *    or enabled, or the window reaching beyond the retention) the state is `insufficient_data`
 *    and nothing is counted;
 * 3. otherwise the store counts the matching traces of the window (`TraceStore.activity`'s total:
 *    in the store, never loading traces) and the state is `alarm` when the condition holds, else
 *    `ok`;
 * 4. the status is written, and when the state changed, the transition and the deliveries that
 *    notify it (one per subscription of the rule's topic), in one transaction — only if the rule
 *    was not changed meanwhile (its version), else the evaluation is dropped and made next time.
 *
 * A rule that fails (e.g. the store does not answer) keeps its state and is tried again at the
 * next run; the failure goes to `onError`. Runs never overlap.
 */
import type { Clock, IdSource } from '../platform/clock.js'
import type {
  AlarmKey,
  AlarmRule,
  AlarmStatus,
  AlarmStore,
  DeliveryStore,
  TraceStore,
} from '../store/index.js'
import { insufficientReason, stateOf, windowAt } from './alarm-condition.js'
import { windowFilter } from './alarm-filter.js'
import { makeTransition } from './alarm-transition.js'

/** Rules read per store call, and calls per run at most (10 000 rules). */
const PAGE = 100
const MAX_PAGES = 100

export interface AlarmEvaluatorDeps {
  readonly alarms: AlarmStore
  readonly traces: Pick<TraceStore, 'activity'>
  readonly delivery: Pick<DeliveryStore, 'getTopic' | 'listSubscriptions'>
  readonly clock: Clock
  readonly ids: IdSource
  /** Traces older than this are purged (the configured retention), ms. */
  readonly retentionMs: number
  /** Time between two runs, ms. */
  readonly intervalMs: number
  /** Called after a run enqueued notifications (to send them at once). */
  readonly onNotified?: () => void
  readonly onError: (error: unknown, rule: AlarmRule) => void
}

export interface EvaluationReport {
  readonly evaluated: number
  readonly transitions: number
  readonly failed: number
}

export class AlarmEvaluator {
  readonly #deps: AlarmEvaluatorDeps
  #timer: NodeJS.Timeout | undefined
  #running: Promise<unknown> | undefined
  #stopped = true

  constructor(deps: AlarmEvaluatorDeps) {
    this.#deps = deps
  }

  /** Runs now, then every `intervalMs` (measured from the end of a run). */
  start(): void {
    if (!this.#stopped) return
    this.#stopped = false
    this.#tick()
  }

  #tick(): void {
    if (this.#stopped) return
    this.#running = this.runOnce()
      .catch(() => undefined)
      .finally(() => {
        this.#running = undefined
        if (this.#stopped) return
        this.#timer = setTimeout(() => this.#tick(), this.#deps.intervalMs)
        this.#timer.unref()
      })
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    await this.#running
  }

  /** Evaluates every enabled rule once, at the clock's now. */
  async runOnce(): Promise<EvaluationReport> {
    const now = this.#deps.clock.now()
    const report = { evaluated: 0, transitions: 0, failed: 0 }
    let notified = 0
    let after: AlarmKey | null = null
    for (let page = 0; page < MAX_PAGES; page++) {
      const rules = await this.#deps.alarms.enabledAlarms(after, PAGE)
      for (const rule of rules) {
        try {
          const outcome = await this.evaluate(rule, now)
          report.evaluated++
          if (outcome.transition) report.transitions++
          notified += outcome.notified
        } catch (error) {
          report.failed++
          this.#deps.onError(error, rule)
        }
      }
      const last = rules.at(-1)
      if (last === undefined || rules.length < PAGE) break
      after = { projectId: last.projectId, id: last.id }
    }
    if (notified > 0) this.#deps.onNotified?.()
    return report
  }

  /** Evaluates one rule at `now` and writes the outcome (see the module header). */
  async evaluate(
    rule: AlarmRule,
    now: number,
  ): Promise<{ written: boolean; transition: boolean; notified: number }> {
    const window = windowAt(rule, now)
    const short = insufficientReason(rule, now, now - this.#deps.retentionMs)
    let count: number | null = null
    let next: { state: AlarmStatus['state']; reason: string }
    if (short !== null) next = { state: 'insufficient_data', reason: short }
    else {
      const filter = windowFilter(rule.projectId, rule.filter, window[0], window[1])
      count = (await this.#deps.traces.activity(filter, window[0], window[1] - window[0], 0)).total
      next = stateOf(rule, count)
    }
    const changed = next.state !== rule.state
    const status: AlarmStatus = {
      state: next.state,
      stateReason: next.reason,
      stateChangedAt: changed ? now : rule.stateChangedAt,
      lastCount: count,
      lastEvaluatedAt: now,
    }
    const change = changed
      ? await makeTransition(this.#deps.delivery, rule, {
          id: this.#deps.ids.uuid(),
          newState: next.state,
          reason: next.reason,
          count,
          window,
          time: now,
        })
      : null
    const written = await this.#deps.alarms.recordEvaluation({
      projectId: rule.projectId,
      alarmId: rule.id,
      version: rule.version,
      status,
      transition: change?.transition ?? null,
      deliveries: change?.deliveries ?? [],
    })
    return {
      written,
      transition: written && changed,
      notified: written ? (change?.deliveries.length ?? 0) : 0,
    }
  }
}
