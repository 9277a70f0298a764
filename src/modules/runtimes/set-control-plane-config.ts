import type { Database } from '../../db/client.ts';
import { fail } from '../../kernel/errors.ts';
import { type Actor, recordAudit } from '../audit/index.ts';
import { lockActiveOrg } from '../organizations/index.ts';
import { getActiveControlPlane, updateControlPlaneConfig } from './runtimes.repo.ts';
import { checkRoutes } from './runtimes.ts';

/** Replaces the control plane's routes; runtimes pick them up on their next sync. */
export async function setControlPlaneConfig(
  db: Database,
  now: Date,
  input: {
    orgId: string;
    actor: Actor;
    routes: Array<{ path_prefix: string; upstream_url: string; service?: string }>;
  },
) {
  const checked = checkRoutes(input.routes);
  if ('field' in checked) throw fail.validation(checked.field, checked.message);
  return db.transaction(async (tx) => {
    await lockActiveOrg(tx, input.orgId);
    const controlPlane = await getActiveControlPlane(tx, input.orgId);
    const updated = await updateControlPlaneConfig(tx, controlPlane.orgId, controlPlane.id, { routes: checked.routes });
    await recordAudit(tx, now, {
      orgId: input.orgId,
      actor: input.actor,
      action: 'control_plane.config_changed',
      targetType: 'control_plane',
      targetId: controlPlane.id,
      before: controlPlane.config,
      after: { routes: checked.routes },
    });
    return updated;
  });
}
