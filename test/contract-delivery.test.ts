/** The delivery port's contract suite on every engine of `STORES` (default sqlite,postgres). */
import { deliveryContract } from './contract/delivery.js'
import { onEveryEngine } from './contract/engines.js'

onEveryEngine(deliveryContract)
