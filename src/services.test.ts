import assert from 'node:assert/strict'
import { it } from 'node:test'
import { Publisher } from './ingest/index.js'
import { commitSignal } from './services.js'
import type { Coordination } from './store/index.js'

it('commitSignal: wakes on this node’s commits and on other nodes’, until unsubscribed', () => {
  const publisher = new Publisher()
  const remote = new Set<() => void>()
  const coordination: Coordination = {
    hold: () => undefined,
    held: () => [],
    onRemoteCommit(listener) {
      remote.add(listener)
      return () => remote.delete(listener)
    },
    close: () => Promise.resolve(),
  }
  let wakes = 0
  const unsubscribe = commitSignal(publisher, coordination).subscribe(() => wakes++)
  publisher.publish([])
  assert.equal(wakes, 0, 'an empty publish is no commit')
  publisher.publish([{ trace_id: 't1' } as never])
  for (const listener of remote) listener()
  assert.equal(wakes, 2)
  unsubscribe()
  publisher.publish([{ trace_id: 't2' } as never])
  assert.equal(remote.size, 0, 'the remote listener is removed')
  assert.equal(wakes, 2)
})
