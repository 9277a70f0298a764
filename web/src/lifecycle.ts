import type { Org } from './api.ts';

/**
 * A free org with neither logins nor API traffic for this many days is deactivated (spec 7). Any
 * login moves t* to at least that far ahead, so a person who is logged in always sees a t* 23 to 30
 * days away: the pages say when it is, as information, not as a warning.
 */
export const INACTIVITY_DAYS = 30;

/** Within this many days the notice is a warning (the first warning email goes out 7 days before, too). */
export const DEACTIVATION_URGENT_DAYS = 7;

const DAY_MS = 86_400_000;

export interface DeactivationNotice {
  at: Date;
  isUrgent: boolean;
}

/** The projected deactivation to tell the org about now, or null: free, active, and due within 30 days. */
export function deactivationNotice(org: Org, now: Date): DeactivationNotice | null {
  if (org.plan !== 'free' || org.status !== 'active' || !org.projected_deactivation_at) return null;
  const at = new Date(org.projected_deactivation_at);
  const left = at.getTime() - now.getTime();
  if (left > INACTIVITY_DAYS * DAY_MS) return null;
  return { at, isUrgent: left <= DEACTIVATION_URGENT_DAYS * DAY_MS };
}
