/** The alarm port's contract suite on every engine of `STORES` (default sqlite,postgres). */
import { alarmStoreContract } from './contract/alarms.js'
import { onEveryEngine } from './contract/engines.js'

onEveryEngine(alarmStoreContract)
