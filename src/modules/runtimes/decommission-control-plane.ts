import type { Database, Executor } from '../../db/client.ts';
import { fail } from '../../kernel/errors.ts';
import { type Actor, recordAudit } from '../audit/index.ts';
import { lockOrg } from '../organizations/index.ts';
import { markControlPlaneDecommissioned } from './runtimes.repo.ts';

/**
 * Decommissions the org's control plane in the caller's transaction: its runtimes are refused with
 * control_plane_decommissioned from then on. Returns whether anything was active.
 */
export async function decommissionControlPlaneIn(
  tx: Executor,
  now: Date,
  input: { orgId: string; actor: Actor; reason: string },
): Promise<boolean> {
  const rows = await markControlPlaneDecommissioned(tx, input.orgId, now);
  for (const row of rows) {
    await recordAudit(tx, now, {
      orgId: input.orgId,
      actor: input.actor,
      action: 'control_plane.decommissioned',
      targetType: 'control_plane',
      targetId: row.id,
      before: { status: 'active' },
      after: { status: 'decommissioned' },
      reason: input.reason,
    });
  }
  return rows.length > 0;
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
    const changed = await decommissionControlPlaneIn(tx, now, { ...input, reason });
    if (!changed) throw fail.conflict('already_decommissioned', 'The control plane is already decommissioned.');
  });
}
