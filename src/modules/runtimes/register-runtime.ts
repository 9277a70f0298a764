import type { Database } from '../../db/client.ts';
import { fail } from '../../kernel/errors.ts';
import { type Actor, recordAudit } from '../audit/index.ts';
import { lockActiveOrg } from '../organizations/index.ts';
import { type Catalog, runtimeLimit } from '../plans/index.ts';
import { countLiveRuntimes, getActiveControlPlane, insertRuntime } from './runtimes.repo.ts';

/** Registers a runtime to the org's control plane within the plan's limit; the token is shown once. */
export async function registerRuntime(
  db: Database,
  now: Date,
  input: { orgId: string; actor: Actor; name: string; catalog: Catalog },
) {
  const name = input.name.trim();
  if (!name) throw fail.validation('name', 'The runtime needs a name.');
  return db.transaction(async (tx) => {
    const org = await lockActiveOrg(tx, input.orgId);
    const controlPlane = await getActiveControlPlane(tx, org.id);
    const limit = runtimeLimit(input.catalog, org.plan);
    if (limit !== null && (await countLiveRuntimes(tx, org.id)) >= limit) {
      throw fail.forbidden(
        'plan_limit_reached',
        `The ${org.plan} plan allows ${limit} runtimes. Delete one or upgrade the plan to register more.`,
      );
    }
    const created = await insertRuntime(tx, { orgId: org.id, controlPlaneId: controlPlane.id, name, now });
    await recordAudit(tx, now, {
      orgId: org.id,
      actor: input.actor,
      action: 'runtime.registered',
      targetType: 'runtime',
      targetId: created.runtime.id,
      after: { name },
    });
    return { ...created, controlPlaneStatus: controlPlane.status };
  });
}
