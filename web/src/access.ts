import type { GrantableRole, OrgRole, StaffRole } from './api.ts';

// Who may do what, as the API decides it (src/modules/identity/identity.ts): the pages show a
// control only to those whose request would be accepted.

/** Owners and org admins manage members, teams, invitations, runtimes and routes. */
export const canManageOrg = (roles: readonly OrgRole[]) => roles.includes('owner') || roles.includes('org_admin');

/** Read-only admins see all of it, and change nothing. */
export const canReadOrgAdmin = (roles: readonly OrgRole[]) =>
  canManageOrg(roles) || roles.includes('org_admin_read_only');

/** Admin staff hold both support and sales. */
export const hasStaffRole = (roles: readonly StaffRole[], needed: 'support' | 'sales') =>
  roles.includes(needed) || roles.includes('admin');

export const ROLE_LABELS: Record<OrgRole, string> = {
  owner: 'Owner',
  org_admin: 'Admin',
  org_admin_read_only: 'Read-only admin',
  member: 'Member',
};

export const ROLE_COLORS: Record<OrgRole, string> = {
  owner: 'grape',
  org_admin: 'indigo',
  org_admin_read_only: 'cyan',
  member: 'gray',
};

export const GRANTABLE_ROLES: { value: GrantableRole; label: string; description: string }[] = [
  {
    value: 'org_admin',
    label: ROLE_LABELS.org_admin,
    description: 'Manages the plan and cards, members, teams, invitations, runtimes and routes.',
  },
  {
    value: 'org_admin_read_only',
    label: ROLE_LABELS.org_admin_read_only,
    description: 'Sees everything an admin sees, and changes nothing.',
  },
  { value: 'member', label: ROLE_LABELS.member, description: 'Sees the plan, usage and invoices.' },
];

export const STAFF_ROLE_LABELS: Record<StaffRole, string> = {
  support: 'Support',
  sales: 'Sales',
  admin: 'Admin (support and sales)',
};
