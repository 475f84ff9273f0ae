/**
 * The transfer, delivery and coordination ports' contract suites on every engine of `STORES`
 * (default sqlite,postgres).
 */
import { onEveryEngine } from './contract/engines.js'
import { transferDeliveryBasicsContract } from './contract/transfer-delivery-basics.js'

// The transfer and delivery tests of the former store contract, until the ports' own suites
// replace them (then delete transfer-delivery-basics.ts and this call).
onEveryEngine(transferDeliveryBasicsContract)

// TO MERGE with wt-pgtransfer: its suites `test/contract/transfer.ts`, `delivery.ts` and
// `coordination.ts` run here, one call each, e.g. `onEveryEngine(transferStoreContract)`;
// or give each its own runner file (contract-transfer.test.ts, …) so they run in parallel.
