export type { Actor, AuditEntry, AuditRow } from './audit.repo.ts';
export { listAuditEvents, presentAuditEvent, recordAudit, recordAudits } from './audit.repo.ts';
