/** The identity port's contract suite on every engine of `STORES` (default sqlite,postgres). */
import { onEveryEngine } from './contract/engines.js'
import { identityStoreContract } from './contract/identity.js'

onEveryEngine(identityStoreContract)
