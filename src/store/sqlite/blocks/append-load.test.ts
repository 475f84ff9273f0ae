/** The rollup warmer's idle test: a busy stretch of appends, not any append, holds warming off. */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { AppendLoad, BUSY_TRACES } from './block-activity.js'

it('a trickle of appends leaves the store idle; a busy stretch holds it busy for 2 s', () => {
  const load = new AppendLoad()
  assert.equal(load.idleIn(0), 0, 'idle before any append')
  // One insight trace every 100 ms for a minute: never busy.
  for (let t = 0; t < 60_000; t += 100) {
    load.appended(1, t)
    assert.equal(load.idleIn(t), 0)
  }
  // Ingest: BUSY_TRACES within a stretch make it busy, for 2 s after the last busy append.
  load.appended(BUSY_TRACES - 1, 70_000)
  assert.equal(load.idleIn(70_000), 0)
  load.appended(1, 70_500)
  assert.equal(load.idleIn(70_500), 2_000)
  assert.equal(load.idleIn(72_000), 500)
  assert.equal(load.idleIn(72_500), 0)
  // A new stretch starts after 2 s: its first small append does not make it busy again.
  load.appended(10, 73_000)
  assert.equal(load.idleIn(73_000), 0)
})
