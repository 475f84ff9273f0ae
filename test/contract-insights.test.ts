/** The insight port's contract suite on every engine of `STORES` (default sqlite,postgres). */
import { insightContract } from './contract/insights.js'
import { onEveryEngine } from './contract/engines.js'

onEveryEngine(insightContract)
