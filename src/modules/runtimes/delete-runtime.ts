import type { Database } from '../../db/client.ts';
import { fail } from '../../kernel/errors.ts';
import { type Actor, recordAudit } from '../audit/index.ts';
import { softDeleteRuntime } from './runtimes.repo.ts';

/** Deletes a runtime of the org: its token is refused from then on; its usage is kept. */
export async function deleteRuntime(
  db: Database,
  now: Date,
  input: { orgId: string; runtimeId: string; actor: Actor },
) {
  return db.transaction(async (tx) => {
    const row = await softDeleteRuntime(tx, input.orgId, input.runtimeId, now);
    if (!row) throw fail.notFound('runtime');
    await recordAudit(tx, now, {
      orgId: input.orgId,
      actor: input.actor,
      action: 'runtime.deleted',
      targetType: 'runtime',
      targetId: row.id,
      before: { name: row.name },
    });
  });
}
