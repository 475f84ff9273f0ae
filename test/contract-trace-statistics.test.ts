/** The statistics contract of the traces port on every engine of `STORES` (default sqlite,postgres). */
import { onEveryEngine } from './contract/engines.js'
import { traceStatisticsContract } from './contract/trace-statistics.js'

onEveryEngine(traceStatisticsContract)
