/**
 * The coordination port's contract suite for one node alone: on the embedded engine's
 * LocalCoordination here; PgCoordination runs it in test/pg-coordination.test.ts, with the tests
 * between nodes.
 */
import { LocalCoordination } from '../src/store/local-coordination.js'
import { coordinationContract } from './contract/coordination.js'

coordinationContract('local', {
  open: () => Promise.resolve(new LocalCoordination()),
  acquireMs: 100,
})
