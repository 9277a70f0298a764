export type { Actor, AuditEntry, AuditRow } from './audit.repo.ts';
export { listAuditEvents, presentAuditEvent, recordAudit } from './audit.repo.ts';
