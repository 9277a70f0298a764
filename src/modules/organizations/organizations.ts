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
