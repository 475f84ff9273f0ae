/** The transfer port's contract suite on every engine of `STORES` (default sqlite,postgres). */
import { onEveryEngine } from './contract/engines.js'
import { transferContract } from './contract/transfer.js'

onEveryEngine(transferContract)
