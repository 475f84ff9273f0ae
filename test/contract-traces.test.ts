/** The traces port's contract suite on every engine of `STORES` (default sqlite,postgres). */
import { onEveryEngine } from './contract/engines.js'
import { traceStoreContract } from './contract/traces.js'

onEveryEngine(traceStoreContract)
