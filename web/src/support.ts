import type { AuditEvent, Member } from './api.ts';

// The support console's own rules: reason codes, how audit events read, and the forecast per day.

export const DEACTIVATION_REASONS = [
  { value: 'support_request', label: 'Support request', description: 'Support decided it after a ticket.' },
  { value: 'owner_request', label: 'The owner asked', description: 'The organization’s owner asked to close it.' },
  { value: 'abuse', label: 'Abuse', description: 'Spam, fraud or traffic against the terms.' },
  { value: 'other', label: 'Other', description: 'Describe it in a sentence, for the audit log.' },
] as const;

export type ReasonCode = (typeof DEACTIVATION_REASONS)[number]['value'];

/** A stored reason as people read it: the label of a known code, else the sentence itself. */
export function reasonLabel(reason: string | null | undefined): string {
  if (!reason) return 'No reason recorded';
  if (reason === 'inactivity') return 'Inactivity (no login and no API traffic for 30 days)';
  const known = DEACTIVATION_REASONS.find((entry) => entry.value === reason && entry.value !== 'other');
  if (known) return known.label;
  // Other codes the API writes (plan_changed_by_sales, payment_failed, …) read as words; sentences stay as typed.
  if (/^[a-z]+(?:_[a-z]+)+$/.test(reason)) {
    const words = reason.replaceAll('_', ' ');
    return words[0].toUpperCase() + words.slice(1);
  }
  return reason;
}

const ACTIONS: Record<string, string> = {
  'org.created': 'Organization created',
  'org.deactivated': 'Organization deactivated',
  'org.reactivated': 'Organization reactivated',
  'org.owner_transferred': 'Ownership transferred',
  'auth.login': 'Logged in',
  'auth.login_failed': 'Login failed',
  'member.joined': 'Member joined',
  'member.roles_changed': 'Member roles changed',
  'member.removed': 'Member removed',
  'invitation.created': 'Invitation sent',
  'invitation.revoked': 'Invitation revoked',
  'invitation.expired': 'Invitation expired',
  'team.created': 'Team created',
  'team.updated': 'Team changed',
  'team.deleted': 'Team deleted',
  'team.member_added': 'Added to a team',
  'team.member_removed': 'Removed from a team',
  'runtime.registered': 'Runtime registered',
  'runtime.deleted': 'Runtime deleted',
  'control_plane.config_changed': 'Routes changed',
  'control_plane.decommissioned': 'Control plane decommissioned',
  'subscription.started': 'Subscription started',
  'subscription.ended': 'Subscription ended',
  'payment_method.added': 'Card added',
  'invoice.calculated': 'Invoice calculated',
  'invoice.paid': 'Invoice paid',
  'invoice.payment_failed': 'Payment failed',
  'invoice.marked_paid': 'Invoice marked paid',
  'invoice.voided': 'Invoice voided',
  'invoice.uncollectible': 'Invoice uncollectible',
  'sales_inquiry.submitted': 'Contact Sales form sent',
  'email.unlocked': 'Email unlocked',
  'token.created': 'Token created',
  'token.revoked': 'Token revoked',
  'system_account.created': 'System account created',
  'system_account.deleted': 'System account deleted',
};

/** "member.roles_changed" → "Member roles changed"; unknown actions are spelled out from their code. */
export function actionLabel(action: string): string {
  const known = ACTIONS[action];
  if (known) return known;
  const words = action.replace(/[._]+/g, ' ').trim();
  return words ? words[0].toUpperCase() + words.slice(1) : action;
}

/** Who did it: a member by name when we know them, staff, the system, or the id the log holds. */
export function actorLabel(actor: AuditEvent['actor'], members: readonly Member[]): string {
  if (actor.type === 'system') return 'Tierline (automatic)';
  const member = actor.id ? members.find((entry) => entry.user_id === actor.id) : undefined;
  if (member) return member.full_name;
  if (actor.type === 'staff') return `Staff (${actor.id ?? 'unknown'})`;
  if (actor.type === 'user') return actor.id ?? 'A user';
  return `${actor.type}${actor.id ? ` ${actor.id}` : ''}`;
}

const DAY_MS = 86_400_000;

export interface ForecastDay {
  /** The UTC day, YYYY-MM-DD. */
  day: string;
  count: number;
}

/**
 * The API's counts per UTC day (GET /v1/admin/lifecycle/forecast/daily, which leaves out days with
 * none) laid over every day from the day of `asOf` to the day of `until`, zero-filled. Orgs already
 * due (the next pass takes them) count on the first day.
 */
export function forecastByDay(counts: readonly ForecastDay[], asOf: string, until: string): ForecastDay[] {
  const dayNumber = (iso: string) => Math.floor(new Date(iso).getTime() / DAY_MS);
  const first = dayNumber(asOf);
  const last = dayNumber(until);
  const perDay = new Array<number>(Math.max(0, last - first) + 1).fill(0);
  for (const entry of counts) {
    const index = Math.min(Math.max(dayNumber(`${entry.day}T00:00:00.000Z`) - first, 0), perDay.length - 1);
    perDay[index] += entry.count;
  }
  return perDay.map((count, index) => ({
    day: new Date((first + index) * DAY_MS).toISOString().slice(0, 10),
    count,
  }));
}

/** How many fall due from the first day up to and including the day `days` after it. */
export function dueWithin(perDay: readonly ForecastDay[], days: number): number {
  return perDay.slice(0, days + 1).reduce((sum, day) => sum + day.count, 0);
}
