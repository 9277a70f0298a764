import type { Database } from '../../db/client.ts';
import { fail } from '../../kernel/errors.ts';
import { recordAudit } from '../audit/index.ts';
import { insertApiToken } from './identity.repo.ts';

/** A personal access token for the session's user in the session's org, shown once. */
export async function createPersonalToken(
  db: Database,
  now: Date,
  input: { orgId: string; userId: string; name: string; expiresInDays?: number },
) {
  const name = input.name.trim();
  if (!name) throw fail.validation('name', 'The token needs a name.');
  const expiresAt = input.expiresInDays ? new Date(now.getTime() + input.expiresInDays * 86_400_000) : null;
  return db.transaction(async (tx) => {
    const created = await insertApiToken(tx, {
      orgId: input.orgId,
      kind: 'personal',
      userId: input.userId,
      systemAccountId: null,
      name,
      expiresAt,
      now,
    });
    await recordAudit(tx, now, {
      orgId: input.orgId,
      actor: { type: 'user', id: input.userId },
      action: 'token.created',
      targetType: 'api_token',
      targetId: created.row.id,
      after: { name, kind: 'personal', expires_at: expiresAt?.toISOString() ?? null },
    });
    return created;
  });
}

export function presentToken(row: {
  id: string;
  name: string;
  kind: string;
  prefix: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}) {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    prefix: row.prefix,
    created_at: row.createdAt.toISOString(),
    expires_at: row.expiresAt?.toISOString() ?? null,
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
    revoked_at: row.revokedAt?.toISOString() ?? null,
  };
}
