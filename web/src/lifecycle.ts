import type { Org } from './api.ts';

/** How long before an inactive free org's deactivation the pages warn about it (the last email warning is 7 days out too). */
export const DEACTIVATION_WARNING_DAYS = 7;

/** The deactivation instant to warn about now, or null: free, active, and due within the warning window. */
export function upcomingDeactivation(org: Org, now: Date): Date | null {
  if (org.plan !== 'free' || org.status !== 'active' || !org.projected_deactivation_at) return null;
  const at = new Date(org.projected_deactivation_at);
  const windowMs = DEACTIVATION_WARNING_DAYS * 86_400_000;
  return at.getTime() - now.getTime() <= windowMs ? at : null;
}
