import type { Database } from '../../db/client.ts';
import { listAuditEvents, presentAuditEvent } from '../audit/index.ts';
import {
  findActiveSubscription,
  linesOf,
  listInvoices,
  listPaymentMethods,
  presentInvoice,
  presentPaymentMethod,
  presentSubscription,
} from '../billing/index.ts';
import { listMembers, listOrgEmailLocks, presentMember } from '../identity/index.ts';
import { getOrg, presentOrg } from '../organizations/index.ts';
import { findCurrentControlPlane, listRuntimes, presentRuntime } from '../runtimes/index.ts';
import { latestRequestAt } from '../usage/index.ts';

/**
 * What support sees of an org (spec 12): the org with its activity (last login, last request,
 * projected deactivation), its subscription, payment methods and email locks, members, runtimes,
 * the latest invoices and the latest audit events.
 */
export async function staffOrgDetail(db: Database, now: Date, orgId: string) {
  const org = await getOrg(db, orgId);
  const [members, runtimes, controlPlane, invoices, auditEvents, lastRequestAt, subscription, methods, locks] =
    await Promise.all([
      listMembers(db, orgId),
      listRuntimes(db, orgId),
      findCurrentControlPlane(db, orgId),
      listInvoices(db, orgId, 20),
      listAuditEvents(db, orgId, 50),
      latestRequestAt(db, orgId),
      findActiveSubscription(db, orgId),
      listPaymentMethods(db, orgId),
      listOrgEmailLocks(db, orgId),
    ]);
  const lines = await linesOf(
    db,
    orgId,
    invoices.map((invoice) => invoice.id),
  );
  return {
    org: { ...presentOrg(org), last_request_at: lastRequestAt?.toISOString() ?? null },
    control_plane: controlPlane
      ? {
          id: controlPlane.id,
          status: controlPlane.status,
          decommissioned_at: controlPlane.decommissionedAt?.toISOString() ?? null,
        }
      : null,
    subscription: subscription ? presentSubscription(subscription, now) : null,
    payment_methods: methods.map(presentPaymentMethod),
    email_locks: locks.map((lock) => ({
      email: lock.email,
      reason: lock.reason,
      created_at: lock.createdAt.toISOString(),
    })),
    members: members.map(presentMember),
    runtimes: runtimes.map((row) => presentRuntime(row.runtime, row.controlPlaneStatus, now)),
    invoices: invoices.map((invoice) => presentInvoice(invoice, lines)),
    audit_events: auditEvents.map(presentAuditEvent),
  };
}
