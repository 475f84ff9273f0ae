/** The search contract of the traces port on every engine of `STORES` (default sqlite,postgres). */
import { onEveryEngine } from './contract/engines.js'
import { traceSearchContract } from './contract/trace-search.js'

onEveryEngine(traceSearchContract)
