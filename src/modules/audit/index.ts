export type { Actor, AuditEntry, AuditRow } from './audit.repo.ts';
export { findLatestAuditEvent, listAuditEvents, presentAuditEvent, recordAudit, recordAudits } from './audit.repo.ts';
