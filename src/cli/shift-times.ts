/**
 * @module cli/shift-times
 * `opencts ingest --shift-to-now`: moves every trace's `time` by one offset so that the newest trace
 * happened one second ago, keeping the spacing between traces. Sample files and replays then land
 * inside the default query window (the last hour) and the 7-day retention, whenever they are sent.
 * Traces without a numeric `time` are left as they are (the server rejects them), and so is the
 * spacing: a file spanning more than the retention still has its oldest traces refused.
 */
import type { InputTrace } from './read-traces.js'

export function shiftTimes(traces: readonly InputTrace[], now: number): InputTrace[] {
  let newest = -Infinity
  for (const { value } of traces) {
    const time = (value as { time?: unknown }).time
    if (typeof time === 'number' && Number.isFinite(time)) newest = Math.max(newest, time)
  }
  if (newest === -Infinity) return [...traces]
  const offset = now - 1000 - newest
  return traces.map((trace) => {
    const time = (trace.value as { time?: unknown }).time
    if (typeof time !== 'number' || !Number.isFinite(time)) return trace
    return { ...trace, value: { ...(trace.value as object), time: Math.round(time + offset) } }
  })
}
