/** Identity rules: emails, passwords, roles. Pure: no database, no HTTP, no clock. */
import { dictionary } from '@zxcvbn-ts/language-common';

export const ORG_ROLES = ['owner', 'org_admin', 'org_admin_read_only', 'member'] as const;
export type OrgRole = (typeof ORG_ROLES)[number];
/** Roles that can be granted to members, teams, invitations and system accounts (never owner). */
export const GRANTABLE_ROLES = ['org_admin', 'org_admin_read_only', 'member'] as const;
export type GrantableRole = (typeof GRANTABLE_ROLES)[number];

export const STAFF_ROLES = ['support', 'sales', 'admin'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

/** What a caller may do in an org, from the widest of its roles. */
export type Access = 'manage' | 'read_admin' | 'read';

const ROLE_ACCESS: Record<OrgRole, Access[]> = {
  owner: ['manage', 'read_admin', 'read'],
  org_admin: ['manage', 'read_admin', 'read'],
  org_admin_read_only: ['read_admin', 'read'],
  member: ['read'],
};

/** Roles add up: the caller has an access when any of its roles grants it. */
export function hasAccess(roles: readonly string[], access: Access): boolean {
  return roles.some((role) => ROLE_ACCESS[role as OrgRole]?.includes(access));
}

/** Whether a staff member holds a staff capability (admin holds both support and sales). */
export function hasStaffRole(staffRoles: readonly string[], needed: StaffRole): boolean {
  return staffRoles.includes(needed) || staffRoles.includes('admin');
}

/** Emails are unique compared case-insensitively after trimming. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

const EMAIL_PATTERN = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export function isValidEmail(email: string): boolean {
  const normalized = normalizeEmail(email);
  return normalized.length <= 254 && EMAIL_PATTERN.test(normalized);
}

/** Spec 9: at least 8 characters, at most 128. Returns the problem, or undefined when fine. */
export function passwordProblem(password: string): string | undefined {
  const length = [...password].length;
  if (length < 8) return 'The password must have at least 8 characters.';
  if (length > 128) return 'The password must have at most 128 characters.';
  if (COMMON_PASSWORDS.has(password.toLowerCase())) {
    return 'This password is one of the most common ones, which attackers try first. Choose another.';
  }
  return undefined;
}

/** The most common passwords (zxcvbn-ts's maintained list of about 50,000; those of 8 or more characters matter). */
const COMMON_PASSWORDS: ReadonlySet<string> = new Set(
  dictionary['passwords-common'].filter((password: string) => password.length >= 8),
);

/** Union of individual and team roles, in the catalog's order. */
export function effectiveRoles(individual: readonly string[], fromTeams: readonly string[]): OrgRole[] {
  const all = new Set([...individual, ...fromTeams]);
  return ORG_ROLES.filter((role) => all.has(role));
}

/** Login throttling windows: failures counted per account and per address. */
export const LOGIN_LIMITS = {
  windowSeconds: 15 * 60,
  perAccount: 5,
  perAddress: 50,
} as const;

export const SESSION_LIMITS = {
  idleSeconds: 24 * 3600,
  absoluteSeconds: 7 * 24 * 3600,
} as const;

export const INVITATION_TTL_DAYS = 7;
