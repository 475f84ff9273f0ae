/** The keys port's contract suite on every engine of `STORES` (default sqlite,postgres). */
import { onEveryEngine } from './contract/engines.js'
import { keyStoreContract } from './contract/keys.js'

onEveryEngine(keyStoreContract)
