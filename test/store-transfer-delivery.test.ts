/**
 * The transfer and delivery contracts on every engine of the run (`STORES`, default both), and the
 * coordination contract on the embedded engine's LocalCoordination.
 */
import { after } from 'node:test'
import { LocalCoordination } from '../src/store/local-coordination.js'
import { coordinationContract } from './contract/coordination.js'
import { deliveryContract } from './contract/delivery.js'
import { engineFactories } from './contract/engines.js'
import { transferContract } from './contract/transfer.js'

for (const factory of engineFactories()) {
  transferContract(factory.engine, factory)
  deliveryContract(factory.engine, factory)
  after(() => factory.dropAll())
}

coordinationContract('local', {
  open: () => Promise.resolve(new LocalCoordination()),
  acquireMs: 100,
})
