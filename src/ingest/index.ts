export { Ingestor, type IngestResult, type IngestorDeps } from './ingestor.js'
export { Publisher, type CommitListener, type PublishedTrace } from './publisher.js'
export { SelfAudit, type AuditEvent, type Caller } from './self-audit.js'
export {
  AuditScope,
  runAudited,
  type AuditOutcome,
  type AuditedCall,
  type AuditedCallDeps,
  type ServiceResult,
} from './audited-call.js'
export { commitChange, commitPrepared, commitTraces, type CommitDeps } from './commit.js'
