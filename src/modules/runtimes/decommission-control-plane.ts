import type { Database, Executor } from '../../db/client.ts';
import { fail } from '../../kernel/errors.ts';
import { type Actor, recordAudits } from '../audit/index.ts';
import { lockOrg } from '../organizations/index.ts';
import { markControlPlanesDecommissioned } from './runtimes.repo.ts';

/**
 * Decommissions the orgs' control planes in the caller's transaction: their runtimes are refused with
 * control_plane_decommissioned from then on. Returns the orgs whose control plane was active.
 */
export async function decommissionControlPlanesIn(
  tx: Executor,
  now: Date,
  input: { orgIds: readonly string[]; actor: Actor; reason: string },
): Promise<Set<string>> {
  const rows = await markControlPlanesDecommissioned(tx, input.orgIds, now);
  await recordAudits(
    tx,
    now,
    rows.map((row) => ({
      orgId: row.orgId,
      actor: input.actor,
      action: 'control_plane.decommissioned',
      targetType: 'control_plane',
      targetId: row.id,
      before: { status: 'active' },
      after: { status: 'decommissioned' },
      reason: input.reason,
    })),
  );
  return new Set(rows.map((row) => row.orgId));
}

/** Staff decommission an org's control plane on its own (abuse, a compromised fleet). */
export async function decommissionControlPlane(
  db: Database,
  now: Date,
  input: { orgId: string; actor: Actor; reason: string },
) {
  const reason = input.reason.trim();
  if (!reason) throw fail.validation('reason', 'Give a reason.');
  return db.transaction(async (tx) => {
    await lockOrg(tx, input.orgId);
    const changed = await decommissionControlPlanesIn(tx, now, { ...input, orgIds: [input.orgId], reason });
    if (changed.size === 0)
      throw fail.conflict('already_decommissioned', 'The control plane is already decommissioned.');
  });
}
