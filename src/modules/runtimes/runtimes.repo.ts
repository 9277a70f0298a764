import { and, count, desc, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { controlPlanes, runtimes } from '../../db/schema/index.ts';
import { fail } from '../../kernel/errors.ts';
import { hashSecret, newId, newSecret } from '../../kernel/ids.ts';

export type RuntimeRow = typeof runtimes.$inferSelect;
export type ControlPlaneRow = typeof controlPlanes.$inferSelect;

/** The org's current control plane (the newest one; earlier ones were decommissioned). */
export async function findCurrentControlPlane(executor: Executor, orgId: string): Promise<ControlPlaneRow | undefined> {
  const [row] = await executor
    .select()
    .from(controlPlanes)
    .where(eq(controlPlanes.orgId, orgId))
    .orderBy(desc(controlPlanes.createdAt), desc(controlPlanes.id))
    .limit(1);
  return row;
}

/** The org's control plane when it is active; a decommissioned one refuses changes with a 403. */
export async function getActiveControlPlane(executor: Executor, orgId: string): Promise<ControlPlaneRow> {
  const controlPlane = await findCurrentControlPlane(executor, orgId);
  if (controlPlane?.status !== 'active') {
    throw fail.forbidden('control_plane_decommissioned', 'This organization’s control plane is decommissioned.');
  }
  return controlPlane;
}

export async function findControlPlane(
  executor: Executor,
  orgId: string,
  id: string,
): Promise<ControlPlaneRow | undefined> {
  const [row] = await executor
    .select()
    .from(controlPlanes)
    .where(and(eq(controlPlanes.orgId, orgId), eq(controlPlanes.id, id)));
  return row;
}

export async function updateControlPlaneConfig(executor: Executor, orgId: string, id: string, config: unknown) {
  const [row] = await executor
    .update(controlPlanes)
    .set({ config, configVersion: sql`${controlPlanes.configVersion} + 1` })
    .where(and(eq(controlPlanes.orgId, orgId), eq(controlPlanes.id, id)))
    .returning();
  return row;
}

/** A runtime's control plane: the same org's, with that id (both keyed by org first). */
const ofRuntime = () => and(eq(controlPlanes.orgId, runtimes.orgId), eq(controlPlanes.id, runtimes.controlPlaneId));

export async function markControlPlanesDecommissioned(executor: Executor, orgIds: readonly string[], now: Date) {
  if (orgIds.length === 0) return [];
  return executor
    .update(controlPlanes)
    .set({ status: 'decommissioned', decommissionedAt: now })
    .where(and(inArray(controlPlanes.orgId, [...orgIds]), eq(controlPlanes.status, 'active')))
    .returning();
}

/** Runtimes counted against the plan's limit: not deleted, on the org's active control plane. */
export async function countLiveRuntimes(executor: Executor, orgId: string): Promise<number> {
  const [row] = await executor
    .select({ n: count() })
    .from(runtimes)
    .innerJoin(controlPlanes, ofRuntime())
    .where(and(eq(runtimes.orgId, orgId), isNull(runtimes.deletedAt), eq(controlPlanes.status, 'active')));
  return row.n;
}

export async function insertRuntime(
  executor: Executor,
  values: { orgId: string; controlPlaneId: string; name: string; now: Date },
): Promise<{ runtime: RuntimeRow; token: string }> {
  const token = newSecret('tlrt');
  const [runtime] = await executor
    .insert(runtimes)
    .values({
      id: newId('rt'),
      orgId: values.orgId,
      controlPlaneId: values.controlPlaneId,
      name: values.name,
      tokenHash: hashSecret(token),
      tokenPrefix: token.slice(0, 12),
      createdAt: values.now,
    })
    .returning();
  return { runtime, token };
}

/** The org's runtimes that were not deleted, newest first, with their control plane's status. */
export async function listRuntimes(executor: Executor, orgId: string) {
  return executor
    .select({ runtime: runtimes, controlPlaneStatus: controlPlanes.status })
    .from(runtimes)
    .innerJoin(controlPlanes, ofRuntime())
    .where(and(eq(runtimes.orgId, orgId), isNull(runtimes.deletedAt)))
    .orderBy(desc(runtimes.createdAt), desc(runtimes.id));
}

export async function softDeleteRuntime(executor: Executor, orgId: string, runtimeId: string, now: Date) {
  const [row] = await executor
    .update(runtimes)
    .set({ deletedAt: now })
    .where(and(eq(runtimes.orgId, orgId), eq(runtimes.id, runtimeId), isNull(runtimes.deletedAt)))
    .returning();
  return row;
}

/** The runtime a token belongs to, with its control plane; deleted runtimes are not found. */
export async function findRuntimeByToken(executor: Executor, token: string) {
  const [row] = await executor
    .select({ runtime: runtimes, controlPlane: controlPlanes })
    .from(runtimes)
    .innerJoin(controlPlanes, ofRuntime())
    .where(and(eq(runtimes.tokenHash, hashSecret(token)), isNull(runtimes.deletedAt)));
  return row;
}

/** A runtime by id with its control plane; deleted runtimes are not found. By id alone (runtimes_id_idx). */
export async function findLiveRuntime(executor: Executor, runtimeId: string) {
  const [row] = await executor
    .select({ runtime: runtimes, controlPlane: controlPlanes })
    .from(runtimes)
    .innerJoin(controlPlanes, ofRuntime())
    .where(and(eq(runtimes.id, runtimeId), isNull(runtimes.deletedAt)));
  return row;
}

/** Records that the runtime was heard from; skips the write when it was seen in the last 10 s. */
export async function touchRuntime(executor: Executor, orgId: string, runtimeId: string, now: Date) {
  const recent = new Date(now.getTime() - 10_000);
  await executor
    .update(runtimes)
    .set({ lastSeenAt: now })
    .where(
      and(
        eq(runtimes.orgId, orgId),
        eq(runtimes.id, runtimeId),
        or(isNull(runtimes.lastSeenAt), lt(runtimes.lastSeenAt, recent)),
      ),
    );
}
