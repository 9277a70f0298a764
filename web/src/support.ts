import type { AuditEvent, Member, WebhookDailyDeliveries, WebhookDelivery } from './api.ts';

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
  'webhook_endpoint.created': 'Webhook endpoint added',
  'webhook_endpoint.updated': 'Webhook endpoint changed',
  'webhook_endpoint.deleted': 'Webhook endpoint deleted',
  'webhook_endpoint.secret_rotated': 'Webhook secret rotated',
  'webhook_delivery.retried': 'Webhook delivery retried',
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

/** What an endpoint subscribes to: every type (`*`, also types added later), or the types it names. */
export const ALL_EVENT_TYPES = '*';

export function isAllEventTypes(events: readonly string[]): boolean {
  return events.includes(ALL_EVENT_TYPES);
}

export interface DeliveryState {
  label: string;
  color: string;
  /** What the state means, for a tooltip or a screen reader. */
  description: string;
}

/**
 * A delivery's state as people read it: the API's `pending` is "Retrying" once an attempt failed
 * (the dispatcher tries again on its schedule) and "Pending" before the first attempt.
 */
export function deliveryState(delivery: Pick<WebhookDelivery, 'status' | 'attempt_count'>): DeliveryState {
  switch (delivery.status) {
    case 'succeeded':
      return { label: 'Delivered', color: 'teal', description: 'The endpoint answered 2xx.' };
    case 'failed':
      return {
        label: 'Failed',
        color: 'red',
        description: 'Every attempt over three days failed; only a manual retry sends it again.',
      };
    case 'sending':
      return { label: 'Sending', color: 'blue', description: 'Being sent now.' };
    default:
      return delivery.attempt_count > 0
        ? { label: 'Retrying', color: 'orange', description: 'An attempt failed; it is tried again on the schedule.' }
        : { label: 'Pending', color: 'gray', description: 'Waiting for its first attempt.' };
  }
}

/** A delivery staff may send again now: one that failed for good, or whose last attempt failed. */
export function canRetryDelivery(delivery: Pick<WebhookDelivery, 'status' | 'attempt_count'>): boolean {
  return delivery.status === 'failed' || (delivery.status === 'pending' && delivery.attempt_count > 0);
}

/** The last attempt's outcome in a few words: the HTTP status, else the error, else nothing yet. */
export function lastResponseLabel(
  delivery: Pick<WebhookDelivery, 'attempt_count' | 'last_response_status' | 'last_error'>,
): string {
  if (delivery.attempt_count === 0) return 'No attempt yet';
  if (delivery.last_response_status !== null) return `HTTP ${delivery.last_response_status}`;
  return delivery.last_error ?? 'No answer';
}

export interface DeliveryDay {
  /** The UTC day, YYYY-MM-DD. */
  day: string;
  delivered: number;
  /** Pending or being sent: not settled yet. */
  waiting: number;
  failed: number;
}

/**
 * The API's per-day counts (days with none left out) over every UTC day from the day of `since` to
 * the day of `as_of`, zero-filled; pending and sending add up as waiting.
 */
export function deliveriesByDay(daily: WebhookDailyDeliveries): DeliveryDay[] {
  const dayNumber = (iso: string) => Math.floor(new Date(iso).getTime() / DAY_MS);
  const first = dayNumber(daily.since);
  const last = Math.max(first, dayNumber(daily.as_of));
  const days: DeliveryDay[] = [];
  for (let day = first; day <= last; day++) {
    days.push({ day: new Date(day * DAY_MS).toISOString().slice(0, 10), delivered: 0, waiting: 0, failed: 0 });
  }
  for (const entry of daily.days) {
    const target = days[dayNumber(`${entry.day}T00:00:00.000Z`) - first];
    if (!target) continue;
    target.delivered += entry.succeeded;
    target.waiting += entry.pending + entry.sending;
    target.failed += entry.failed;
  }
  return days;
}
