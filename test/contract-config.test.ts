/** The config port's contract suite on every engine of `STORES` (default sqlite,postgres). */
import { configStoreContract } from './contract/config.js'
import { onEveryEngine } from './contract/engines.js'

onEveryEngine(configStoreContract)
