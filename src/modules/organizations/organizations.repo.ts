import { and, desc, eq, ilike, inArray, or, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { afterCursor, type Cursor } from '../../db/pagination.ts';
import { controlPlanes, loginEvents, orgs } from '../../db/schema/index.ts';
import { fail } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { OrgRecord } from './organizations.ts';

export async function findOrg(executor: Executor, orgId: string): Promise<OrgRecord | undefined> {
  const [row] = await executor.select().from(orgs).where(eq(orgs.id, orgId));
  return row;
}

export async function getOrg(executor: Executor, orgId: string): Promise<OrgRecord> {
  const org = await findOrg(executor, orgId);
  if (!org) throw fail.notFound('organization');
  return org;
}

/** Locks the org row for the rest of the transaction: changes to one org are serialized. */
export async function lockOrg(executor: Executor, orgId: string): Promise<OrgRecord> {
  const [row] = await executor.select().from(orgs).where(eq(orgs.id, orgId)).for('update');
  if (!row) throw fail.notFound('organization');
  return row;
}

/** Locks many org rows, in id order so that two callers never wait on each other in a cycle. */
export async function lockOrgs(executor: Executor, orgIds: readonly string[]) {
  if (orgIds.length === 0) return [];
  return executor
    .select({ id: orgs.id })
    .from(orgs)
    .where(inArray(orgs.id, [...orgIds]))
    .orderBy(orgs.id)
    .for('update');
}

/** Inserts an org with its control plane. Roles are written by the identity module. */
export async function insertOrg(
  executor: Executor,
  values: { name: string; email: string; ownerUserId: string; now: Date },
): Promise<OrgRecord> {
  const [org] = await executor
    .insert(orgs)
    .values({
      id: newId('org'),
      name: values.name,
      email: values.email,
      ownerUserId: values.ownerUserId,
      status: 'active',
      plan: 'free',
      createdAt: values.now,
      lastLoginAt: values.now,
    })
    .returning();
  await executor.insert(controlPlanes).values({
    id: newId('cp'),
    orgId: org.id,
    status: 'active',
    createdAt: values.now,
  });
  return org;
}

/** Records an interactive login into an org and moves its last_login_at. */
export async function recordOrgLogin(
  executor: Executor,
  values: { orgId: string; userId: string; method: string; now: Date },
): Promise<void> {
  await executor.insert(loginEvents).values({
    id: newId('lgn'),
    orgId: values.orgId,
    userId: values.userId,
    method: values.method,
    at: values.now,
  });
  await executor
    .update(orgs)
    .set({ lastLoginAt: sql`greatest(${orgs.lastLoginAt}, ${values.now.toISOString()}::timestamptz)` })
    .where(eq(orgs.id, values.orgId));
}

/** Staff search by name, email or id, newest first. */
export async function searchOrgs(
  executor: Executor,
  query: string | undefined,
  limit: number,
  cursor?: Cursor,
): Promise<OrgRecord[]> {
  const text = query?.trim();
  const pattern = text ? `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined;
  return executor
    .select()
    .from(orgs)
    .where(
      and(
        pattern ? or(ilike(orgs.name, pattern), ilike(orgs.email, pattern), eq(orgs.id, text as string)) : undefined,
        afterCursor(orgs.createdAt, orgs.id, cursor),
      ),
    )
    .orderBy(desc(orgs.createdAt), desc(orgs.id))
    .limit(limit);
}

export async function findActiveControlPlane(executor: Executor, orgId: string) {
  const [row] = await executor
    .select()
    .from(controlPlanes)
    .where(and(eq(controlPlanes.orgId, orgId), eq(controlPlanes.status, 'active')));
  return row;
}

/** Sets the org's plan (the billing module keeps it in step with the active subscription). */
export async function setOrgPlan(executor: Executor, orgId: string, plan: string) {
  await executor.update(orgs).set({ plan }).where(eq(orgs.id, orgId));
}
