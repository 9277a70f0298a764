import { and, asc, desc, eq, gt, ilike, inArray, isNotNull, lt, lte, or, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { afterCursor, type Cursor } from '../../db/pagination.ts';
import { controlPlanes, loginEvents, orgs } from '../../db/schema/index.ts';
import { cancelDueMany, scheduleDue } from '../../jobs/runner.ts';
import { fail } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import {
  INACTIVITY,
  nextInactivityCheck,
  ORG_INACTIVITY,
  type OrgRecord,
  orgDeactivated,
  projectedDeactivation,
} from './organizations.ts';

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

/** Locks an active org's row; a deactivated org answers org_deactivated (spec 8: nothing changes in it). */
export async function lockActiveOrg(executor: Executor, orgId: string): Promise<OrgRecord> {
  const org = await lockOrg(executor, orgId);
  if (org.status !== 'active') throw orgDeactivated();
  return org;
}

/** Locks many org rows, in id order so that two callers never wait on each other in a cycle. */
export async function lockOrgs(executor: Executor, orgIds: readonly string[]): Promise<OrgRecord[]> {
  if (orgIds.length === 0) return [];
  return executor
    .select()
    .from(orgs)
    .where(inArray(orgs.id, [...orgIds]))
    .orderBy(orgs.id)
    .for('update');
}

/** Inserts an org with its control plane; its inactivity clock starts (creating it counts as a login). */
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
  await insertControlPlane(executor, org.id, values.now);
  return startInactivityClock(executor, org, { now: values.now, latestRequestAt: null });
}

/** A new, active control plane for the org (at sign-up and at reactivation). */
export async function insertControlPlane(executor: Executor, orgId: string, now: Date) {
  const [row] = await executor
    .insert(controlPlanes)
    .values({ id: newId('cp'), orgId, status: 'active', createdAt: now })
    .returning();
  return row;
}

/**
 * Records an interactive login into an org and moves its last_login_at; a free, active org's t* moves
 * to at least 30 days later, and its next inactivity check is scheduled for the new t*.
 */
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
  const now = values.now.toISOString();
  const loginFloor = new Date(values.now.getTime() + INACTIVITY.loginDays * 86_400_000).toISOString();
  const [row] = await executor
    .update(orgs)
    .set({
      lastLoginAt: sql`greatest(${orgs.lastLoginAt}, ${now}::timestamptz)`,
      projectedDeactivationAt: sql`case when ${orgs.projectedDeactivationAt} is null then null
        else greatest(${orgs.projectedDeactivationAt}, ${loginFloor}::timestamptz) end`,
    })
    .where(eq(orgs.id, values.orgId))
    .returning({ projected: orgs.projectedDeactivationAt });
  if (row?.projected) await scheduleInactivityCheck(executor, values.orgId, row.projected, values.now);
}

/**
 * Schedules the next inactivity check of a t* that just moved or started. The check already pending
 * (for the earlier t*) finds the new t* and follows it too; both lead to the same items, which are
 * unique. A check at this very instant that already ran (before a plan change made the org free again,
 * say) runs again: the check sends each warning once and deactivates once whatever runs it.
 */
async function scheduleInactivityCheck(executor: Executor, orgId: string, projected: Date, now: Date) {
  const dueAt = nextInactivityCheck(projected, now, false);
  if (dueAt) await scheduleDue(executor, { kind: ORG_INACTIVITY, subjectId: orgId, dueAt, now }, { reviveDone: true });
}

/**
 * Traffic arrived for the org: t* moves to at least `floor` (the start of cycle c_u + 2). Only a free,
 * active org has a t*; a floor that does not move it writes nothing.
 */
export async function noteOrgTraffic(executor: Executor, orgId: string, floor: Date, now: Date): Promise<void> {
  const [row] = await executor
    .update(orgs)
    .set({ projectedDeactivationAt: floor })
    .where(and(eq(orgs.id, orgId), isNotNull(orgs.projectedDeactivationAt), lt(orgs.projectedDeactivationAt, floor)))
    .returning({ id: orgs.id });
  if (row) await scheduleInactivityCheck(executor, orgId, floor, now);
}

/**
 * The org is (again) free and active from `now`: writes its t* and schedules the first inactivity
 * check. Called at sign-up, when a subscription ends and at reactivation.
 */
export async function startInactivityClock(
  executor: Executor,
  org: Pick<OrgRecord, 'id' | 'createdAt' | 'lastLoginAt'>,
  values: { now: Date; latestRequestAt: Date | null },
): Promise<OrgRecord> {
  const projected = projectedDeactivation({
    ...org,
    latestRequestAt: values.latestRequestAt,
    eligibleSince: values.now,
  });
  const [row] = await executor
    .update(orgs)
    .set({ projectedDeactivationAt: projected })
    .where(eq(orgs.id, org.id))
    .returning();
  await scheduleInactivityCheck(executor, org.id, projected, values.now);
  return row;
}

/** The orgs stop being candidates for inactivity (a paid plan, or deactivation). */
export async function stopInactivityClock(executor: Executor, orgIds: readonly string[], now: Date): Promise<void> {
  if (orgIds.length === 0) return;
  await executor
    .update(orgs)
    .set({ projectedDeactivationAt: null })
    .where(inArray(orgs.id, [...orgIds]));
  await cancelDueMany(executor, ORG_INACTIVITY, orgIds, now);
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

/**
 * Sets the org's plan (the billing module keeps it in step with the active subscription). A paid plan
 * stops the inactivity clock; back on Free it starts again from `now`.
 */
export async function setOrgPlan(
  executor: Executor,
  orgId: string,
  plan: string,
  values: { now: Date; latestRequestAt: Date | null },
): Promise<void> {
  const [org] = await executor.update(orgs).set({ plan }).where(eq(orgs.id, orgId)).returning();
  if (org.status !== 'active') return;
  if (plan === 'free') await startInactivityClock(executor, org, values);
  else await stopInactivityClock(executor, [orgId], values.now);
}

/** Free, active orgs whose t* is at or before `until`, soonest first (the lifecycle forecast). */
export async function listProjectedDeactivations(
  executor: Executor,
  values: { until: Date; limit: number; after?: { at: Date; id: string } },
): Promise<OrgRecord[]> {
  return executor
    .select()
    .from(orgs)
    .where(
      and(
        eq(orgs.status, 'active'),
        eq(orgs.plan, 'free'),
        isNotNull(orgs.projectedDeactivationAt),
        lte(orgs.projectedDeactivationAt, values.until),
        values.after
          ? or(
              gt(orgs.projectedDeactivationAt, values.after.at),
              and(eq(orgs.projectedDeactivationAt, values.after.at), gt(orgs.id, values.after.id)),
            )
          : undefined,
      ),
    )
    .orderBy(asc(orgs.projectedDeactivationAt), asc(orgs.id))
    .limit(values.limit);
}

/** Marks the orgs deactivated at `now` for `reason` and stops their inactivity clock. */
export async function markOrgsDeactivated(
  executor: Executor,
  orgIds: readonly string[],
  values: { now: Date; reason: string },
): Promise<OrgRecord[]> {
  if (orgIds.length === 0) return [];
  const rows = await executor
    .update(orgs)
    .set({
      status: 'deactivated',
      deactivatedAt: values.now,
      deactivationReason: values.reason,
      projectedDeactivationAt: null,
    })
    .where(inArray(orgs.id, [...orgIds]))
    .returning();
  // Checks due later are cancelled; one due now or before finds the org deactivated and stops.
  await cancelDueMany(executor, ORG_INACTIVITY, orgIds, values.now, { after: values.now });
  return rows;
}

/** Makes a deactivated org active again, on Free (its history stays in the audit log). */
export async function markOrgReactivated(executor: Executor, orgId: string): Promise<OrgRecord> {
  const [row] = await executor
    .update(orgs)
    .set({ status: 'active', plan: 'free', deactivatedAt: null, deactivationReason: null })
    .where(eq(orgs.id, orgId))
    .returning();
  return row;
}

/** Writes a t* the inactivity check found stale (it only ever moves later). */
export async function setProjectedDeactivation(executor: Executor, orgId: string, projected: Date): Promise<void> {
  await executor.update(orgs).set({ projectedDeactivationAt: projected }).where(eq(orgs.id, orgId));
}

/** How many free, active orgs reach t* on each UTC day up to `until` (the forecast's chart). */
export async function countProjectedDeactivationsByDay(
  executor: Executor,
  until: Date,
): Promise<Array<{ day: Date; count: number }>> {
  const day = sql<string>`date_trunc('day', ${orgs.projectedDeactivationAt} at time zone 'UTC')`;
  const rows = await executor
    .select({ day, count: sql<number>`count(*)::int` })
    .from(orgs)
    .where(
      and(
        eq(orgs.status, 'active'),
        eq(orgs.plan, 'free'),
        isNotNull(orgs.projectedDeactivationAt),
        lte(orgs.projectedDeactivationAt, until),
      ),
    )
    .groupBy(day)
    .orderBy(day);
  return rows.map((row) => ({
    day: new Date(`${String(row.day).slice(0, 10)}T00:00:00.000Z`),
    count: Number(row.count),
  }));
}
