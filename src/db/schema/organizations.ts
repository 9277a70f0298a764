import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { instant } from './columns.ts';

export const orgs = pgTable(
  'orgs',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    email: text('email').notNull(),
    ownerUserId: text('owner_user_id').notNull(),
    status: text('status').notNull(),
    plan: text('plan').notNull(),
    createdAt: instant('created_at').notNull(),
    lastLoginAt: instant('last_login_at'),
    deactivatedAt: instant('deactivated_at'),
    deactivationReason: text('deactivation_reason'),
    projectedDeactivationAt: instant('projected_deactivation_at'),
  },
  (t) => [
    index('orgs_email_idx').on(t.email),
    index('orgs_created_idx').on(t.createdAt, t.id),
    index('orgs_projected_deactivation_idx')
      .on(t.projectedDeactivationAt, t.id)
      .where(sql`status = 'active' and plan = 'free'`),
  ],
);

export const controlPlanes = pgTable(
  'control_planes',
  {
    id: text('id').notNull(),
    orgId: text('org_id').notNull(),
    status: text('status').notNull(),
    config: jsonb('config').notNull().default({ routes: [] }),
    configVersion: integer('config_version').notNull().default(1),
    createdAt: instant('created_at').notNull(),
    decommissionedAt: instant('decommissioned_at'),
  },
  (t) => [
    // Keyed by org first, so the table can be sharded by org_id (docs/scaling.md).
    primaryKey({ columns: [t.orgId, t.id] }),
    // Usage reports join a runtime to its control plane by id alone.
    index('control_planes_id_idx').on(t.id),
  ],
);
