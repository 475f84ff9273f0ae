/**
 * The Merkle log port's contract suite on every engine of `STORES` (default sqlite,postgres), the
 * stores opened with the trace log's hashing.
 */
import { TRACE_LOG_HASHING } from '../src/log/trace-log-hashing.js'
import { onEveryEngine } from './contract/engines.js'
import { merkleLogContract } from './contract/merkle-log.js'

onEveryEngine(merkleLogContract, { merkle: TRACE_LOG_HASHING })
