import { fail } from '../../kernel/errors.ts';
import type { Email } from '../notifications/index.ts';
import type { OrgRecord } from '../organizations/index.ts';

/** Organization lifecycle rules and messages (spec 7 and 8). Pure. */

/** A staff reason: a short code such as support_request, owner_request or abuse, or a sentence. */
export function checkReason(reason: string | undefined): string {
  const trimmed = reason?.trim() ?? '';
  if (!trimmed) throw fail.validation('reason', 'Give a reason: it is kept in the audit log.');
  if (trimmed.length > 500) throw fail.validation('reason', 'The reason must have at most 500 characters.');
  return trimmed;
}

// One formatter for every message: building one per call costs a tenth of a millisecond, and the
// sweep writes a thousand notices per transaction.
const UTC_DATE_TIME = new Intl.DateTimeFormat('en-US', { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' });
const day = (instant: Date) => `${UTC_DATE_TIME.format(instant)} UTC`;

/** The outbox kind of the warning `days` before t*. */
export const warningKind = (days: number) => `inactivity_warning_${days}d`;

/** The warning to an org's admins `days` before t* (spec 7). */
export function inactivityWarning(org: OrgRecord, projected: Date, days: number, to: string): Email {
  const when = days === 1 ? 'tomorrow' : `in ${days} days`;
  return {
    to,
    orgId: org.id,
    kind: warningKind(days),
    subject: `${org.name} will be deactivated ${when}`,
    body: [
      `The free organization ${org.name} has had no login and no API traffic for a while.`,
      `It will be deactivated on ${day(projected)}: its control plane will stop, its members will lose access and its email will be locked.`,
      'To keep it active, log in to it, or send API traffic through one of its runtimes.',
    ].join('\n\n'),
  };
}

/** The notice to the org's email that it was deactivated (spec 8.6). */
export function deactivationNotice(org: OrgRecord, reason: string, now: Date): Email {
  const why = reason === 'inactivity' ? 'it had no login and no API traffic for 30 days' : `of: ${reason}`;
  return {
    to: org.email,
    orgId: org.id,
    kind: 'org_deactivated',
    subject: `${org.name} has been deactivated`,
    body: [
      `The organization ${org.name} was deactivated on ${day(now)} because ${why}.`,
      'Its runtimes no longer receive configuration, its members cannot log in to it, and this email address is locked.',
      'Contact support to reactivate it.',
    ].join('\n\n'),
  };
}

/** The notice to the org's email that it is active again. */
export function reactivationNotice(org: OrgRecord, now: Date): Email {
  return {
    to: org.email,
    orgId: org.id,
    kind: 'org_reactivated',
    subject: `${org.name} is active again`,
    body: [
      `The organization ${org.name} was reactivated on ${day(now)}, on the Free plan, with a new control plane.`,
      'Register its runtimes again to send traffic through it.',
    ].join('\n\n'),
  };
}
