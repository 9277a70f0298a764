import { sql } from 'drizzle-orm';
import { boolean, index, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { instant } from './columns.ts';

export const users = pgTable(
  'users',
  {
    id: text('id').primaryKey(),
    email: text('email').notNull(),
    passwordHash: text('password_hash').notNull(),
    fullName: text('full_name').notNull(),
    staffRoles: text('staff_roles').array().notNull().default(sql`'{}'::text[]`),
    createdAt: instant('created_at').notNull(),
  },
  (t) => [uniqueIndex('users_email_key').on(t.email)],
);

export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    tokenHash: text('token_hash').notNull(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    orgId: text('org_id'),
    isStaff: boolean('is_staff').notNull().default(false),
    createdAt: instant('created_at').notNull(),
    lastSeenAt: instant('last_seen_at').notNull(),
    expiresAt: instant('expires_at').notNull(),
    endedAt: instant('ended_at'),
  },
  (t) => [uniqueIndex('sessions_token_hash_key').on(t.tokenHash), index('sessions_org_idx').on(t.orgId)],
);

/** Personal access tokens (user in one org) and system account tokens. */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: text('id').notNull(),
    orgId: text('org_id').notNull(),
    kind: text('kind').notNull(),
    userId: text('user_id'),
    systemAccountId: text('system_account_id'),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull(),
    prefix: text('prefix').notNull(),
    createdAt: instant('created_at').notNull(),
    expiresAt: instant('expires_at'),
    lastUsedAt: instant('last_used_at'),
    revokedAt: instant('revoked_at'),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.id] }),
    // Not unique: a unique index must contain org_id to shard by it, and the caller is found by the hash
    // before its org is known. Secrets carry about 238 random bits: they do not collide (docs/scaling.md).
    index('api_tokens_token_hash_idx').on(t.tokenHash),
  ],
);

export const loginAttempts = pgTable(
  'login_attempts',
  {
    id: text('id').primaryKey(),
    accountKey: text('account_key').notNull(),
    address: text('address').notNull(),
    succeeded: boolean('succeeded').notNull(),
    at: instant('at').notNull(),
  },
  (t) => [
    index('login_attempts_account_idx').on(t.accountKey, t.at),
    index('login_attempts_address_idx').on(t.address, t.at),
  ],
);

export const loginEvents = pgTable(
  'login_events',
  {
    id: text('id').notNull(),
    orgId: text('org_id').notNull(),
    userId: text('user_id').notNull(),
    method: text('method').notNull(),
    at: instant('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.id] }), index('login_events_org_idx').on(t.orgId, t.at)],
);

export const systemAccounts = pgTable(
  'system_accounts',
  {
    id: text('id').notNull(),
    orgId: text('org_id').notNull(),
    name: text('name').notNull(),
    roles: text('roles').array().notNull(),
    createdAt: instant('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.id] })],
);

export const invitations = pgTable(
  'invitations',
  {
    id: text('id').notNull(),
    orgId: text('org_id').notNull(),
    email: text('email').notNull(),
    roles: text('roles').array().notNull(),
    tokenHash: text('token_hash').notNull(),
    invitedBy: text('invited_by').notNull(),
    status: text('status').notNull(),
    createdAt: instant('created_at').notNull(),
    expiresAt: instant('expires_at').notNull(),
    acceptedAt: instant('accepted_at'),
    acceptedBy: text('accepted_by'),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.id] }),
    // Accepted by token before the org is known; not unique, as api_tokens' hash.
    index('invitations_token_hash_idx').on(t.tokenHash),
    // Expiry is due work that names the invitation by id alone.
    index('invitations_id_idx').on(t.id),
  ],
);

export const memberships = pgTable(
  'memberships',
  {
    orgId: text('org_id').notNull(),
    userId: text('user_id').notNull(),
    createdAt: instant('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.userId] }), index('memberships_user_idx').on(t.userId)],
);

export const memberRoles = pgTable(
  'member_roles',
  {
    orgId: text('org_id').notNull(),
    userId: text('user_id').notNull(),
    role: text('role').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.userId, t.role] })],
);

export const teams = pgTable(
  'teams',
  {
    id: text('id').notNull(),
    orgId: text('org_id').notNull(),
    name: text('name').notNull(),
    roles: text('roles').array().notNull(),
    createdAt: instant('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.id] }), uniqueIndex('teams_org_name_key').on(t.orgId, t.name)],
);

export const teamMembers = pgTable(
  'team_members',
  {
    orgId: text('org_id').notNull(),
    teamId: text('team_id').notNull(),
    userId: text('user_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.teamId, t.userId] })],
);
