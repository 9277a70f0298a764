import { fail } from '../../kernel/errors.ts';

/** Organization rules and shapes. Pure. */
export const PLANS = ['free', 'plus', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];
export type OrgStatus = 'active' | 'deactivated';

export interface OrgRecord {
  id: string;
  name: string;
  email: string;
  ownerUserId: string;
  status: string;
  plan: string;
  createdAt: Date;
  lastLoginAt: Date | null;
  deactivatedAt: Date | null;
  deactivationReason: string | null;
  projectedDeactivationAt: Date | null;
}

const iso = (value: Date | null) => (value ? value.toISOString() : null);

/** The org as the API shows it (spec 12). */
export function presentOrg(org: OrgRecord) {
  return {
    id: org.id,
    name: org.name,
    email: org.email,
    owner_user_id: org.ownerUserId,
    status: org.status,
    plan: org.plan,
    created_at: org.createdAt.toISOString(),
    last_login_at: iso(org.lastLoginAt),
    deactivated_at: iso(org.deactivatedAt),
    deactivation_reason: org.deactivationReason,
    projected_deactivation_at: iso(org.projectedDeactivationAt),
  };
}

export function validateOrgName(name: string): string | undefined {
  const trimmed = name.trim();
  if (trimmed.length === 0) return 'The organization name must not be empty.';
  if (trimmed.length > 100) return 'The organization name must have at most 100 characters.';
  return undefined;
}

/** The refusal for anything done in a deactivated org (spec 8). */
export function orgDeactivated() {
  return fail.forbidden('org_deactivated', 'This organization is deactivated. Contact support to reactivate it.');
}

/** Spec 7: free-plan cycles, the login window and the warnings before deactivation. */
export const INACTIVITY = { cycleDays: 30, loginDays: 30, warningDays: [7, 1] } as const;

/** Due work that checks a free org's inactivity at its warning instants and at t*. */
export const ORG_INACTIVITY = 'org_inactivity';

const DAY_MS = 86_400_000;
const CYCLE_MS = INACTIVITY.cycleDays * DAY_MS;

/** The free-plan cycle an instant falls in: cycle c is [created_at + 30c days, created_at + 30(c+1) days). */
export function cycleOf(createdAt: Date, at: Date): number {
  return Math.floor((at.getTime() - createdAt.getTime()) / CYCLE_MS);
}

export function cycleStart(createdAt: Date, cycle: number): Date {
  return new Date(createdAt.getTime() + cycle * CYCLE_MS);
}

/**
 * The earliest instant traffic lets a free org be deactivated: the start of cycle c_u + 2, where c_u
 * is the cycle of its latest request (null when it has none).
 */
export function trafficFloor(createdAt: Date, latestRequestAt: Date | null): Date | null {
  return latestRequestAt ? cycleStart(createdAt, cycleOf(createdAt, latestRequestAt) + 2) : null;
}

/** The instant from which another request would move the traffic floor: the next cycle's start. */
export function nextTrafficCycle(createdAt: Date, latestRequestAt: Date): Date {
  return cycleStart(createdAt, cycleOf(createdAt, latestRequestAt) + 1);
}

const latest = (...instants: Array<Date | null>) =>
  new Date(Math.max(...instants.filter((instant): instant is Date => instant !== null).map((i) => i.getTime())));

/**
 * t* (spec 7): the first instant a free org is inactive, max(L + 30 days, start of cycle c_u + 2),
 * and never before it became free (`eligibleSince`: a downgrade or a reactivation).
 */
export function projectedDeactivation(input: {
  createdAt: Date;
  lastLoginAt: Date | null;
  latestRequestAt: Date | null;
  eligibleSince?: Date;
}): Date {
  const login = input.lastLoginAt ?? input.createdAt;
  return latest(
    new Date(login.getTime() + INACTIVITY.loginDays * DAY_MS),
    trafficFloor(input.createdAt, input.latestRequestAt),
    input.eligibleSince ?? null,
  );
}

/** The instants the inactivity check runs for t*: each warning, then t* itself. */
export function inactivityMilestones(projected: Date): Date[] {
  return [...INACTIVITY.warningDays.map((days) => new Date(projected.getTime() - days * DAY_MS)), projected];
}

/** The first milestone of t* at or after `from` (after it when `strictly`); none once t* passed. */
export function nextInactivityCheck(projected: Date, from: Date, strictly: boolean): Date | null {
  return inactivityMilestones(projected).find((instant) => (strictly ? instant > from : instant >= from)) ?? null;
}

export type InactivityStep = { kind: 'deactivate' } | { kind: 'warn'; days: number } | { kind: 'wait' };

/** What the inactivity check does at `now` for t*: deactivate, send a warning (days before), or wait. */
export function inactivityStep(projected: Date, now: Date): InactivityStep {
  if (now >= projected) return { kind: 'deactivate' };
  const days = INACTIVITY.warningDays.find((d) => projected.getTime() - d * DAY_MS === now.getTime());
  return days === undefined ? { kind: 'wait' } : { kind: 'warn', days };
}
