import type { Database, Executor } from '../../db/client.ts';
import { addDays } from '../../kernel/calendar.ts';
import { fail } from '../../kernel/errors.ts';
import { type Actor, recordAudit } from '../audit/index.ts';
import { lockActiveOrg } from '../organizations/index.ts';
import {
  deleteSystemAccount as deleteSystemAccountRows,
  findSystemAccount,
  insertApiToken,
  insertSystemAccount,
  listSystemAccountRows,
  listSystemTokens,
  revokeSystemToken,
  type SystemAccountRow,
  type TokenRow,
} from './identity.repo.ts';
import { grantableRolesOf } from './members.ts';

/** A system account with its tokens that are not revoked. */
export interface SystemAccount extends SystemAccountRow {
  tokens: TokenRow[];
}

/** Names are trimmed and have 1 to 100 characters. */
function nameOf(name: string, what: string): string {
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > 100)
    throw fail.validation('name', `The ${what} name must have 1 to 100 characters.`);
  return trimmed;
}

async function getSystemAccount(executor: Executor, orgId: string, systemAccountId: string) {
  const account = await findSystemAccount(executor, orgId, systemAccountId);
  if (!account) throw fail.notFound('system account');
  return account;
}

/** The org's system accounts with their live tokens, newest first. */
export async function listSystemAccounts(executor: Executor, orgId: string): Promise<SystemAccount[]> {
  const [accounts, tokens] = await Promise.all([
    listSystemAccountRows(executor, orgId),
    listSystemTokens(executor, orgId),
  ]);
  return accounts.map((account) => ({
    ...account,
    tokens: tokens.filter((token) => token.systemAccountId === account.id),
  }));
}

/** Creates a system account: a non-person member of the org with its own roles and tokens. */
export async function createSystemAccount(
  db: Database,
  now: Date,
  input: { orgId: string; actor: Actor; name: string; roles: readonly string[] },
): Promise<SystemAccount> {
  const name = nameOf(input.name, 'system account');
  const roles = grantableRolesOf(input.roles);
  return db.transaction(async (tx) => {
    await lockActiveOrg(tx, input.orgId);
    const row = await insertSystemAccount(tx, { orgId: input.orgId, name, roles, now });
    await recordAudit(tx, now, {
      orgId: input.orgId,
      actor: input.actor,
      action: 'system_account.created',
      targetType: 'system_account',
      targetId: row.id,
      after: { name, roles },
    });
    return { ...row, tokens: [] };
  });
}

/** Deletes a system account and revokes every token it has. */
export async function deleteSystemAccount(
  db: Database,
  now: Date,
  input: { orgId: string; actor: Actor; systemAccountId: string },
): Promise<void> {
  await db.transaction(async (tx) => {
    await lockActiveOrg(tx, input.orgId);
    const account = await getSystemAccount(tx, input.orgId, input.systemAccountId);
    const tokens = await listSystemTokens(tx, input.orgId, account.id);
    await deleteSystemAccountRows(tx, input.orgId, account.id, now);
    await recordAudit(tx, now, {
      orgId: input.orgId,
      actor: input.actor,
      action: 'system_account.deleted',
      targetType: 'system_account',
      targetId: account.id,
      before: { name: account.name, roles: account.roles, revoked_token_ids: tokens.map((token) => token.id) },
    });
  });
}

/** A token for the system account, shown once; it acts in the org with the account's roles. */
export async function createSystemAccountToken(
  db: Database,
  now: Date,
  input: { orgId: string; actor: Actor; systemAccountId: string; name: string; expiresInDays?: number },
) {
  const name = nameOf(input.name, 'token');
  const expiresAt = input.expiresInDays ? addDays(now, input.expiresInDays) : null;
  return db.transaction(async (tx) => {
    await lockActiveOrg(tx, input.orgId);
    const account = await getSystemAccount(tx, input.orgId, input.systemAccountId);
    const created = await insertApiToken(tx, {
      orgId: input.orgId,
      kind: 'system',
      userId: null,
      systemAccountId: account.id,
      name,
      expiresAt,
      now,
    });
    await recordAudit(tx, now, {
      orgId: input.orgId,
      actor: input.actor,
      action: 'token.created',
      targetType: 'api_token',
      targetId: created.row.id,
      after: { name, kind: 'system', system_account_id: account.id, expires_at: expiresAt?.toISOString() ?? null },
    });
    return created;
  });
}

/** Revokes one token of a system account; the account and its other tokens stay. */
export async function revokeSystemAccountToken(
  db: Database,
  now: Date,
  input: { orgId: string; actor: Actor; systemAccountId: string; tokenId: string },
): Promise<void> {
  await db.transaction(async (tx) => {
    const account = await getSystemAccount(tx, input.orgId, input.systemAccountId);
    const token = await revokeSystemToken(tx, input.orgId, account.id, input.tokenId, now);
    if (!token) throw fail.notFound('token');
    await recordAudit(tx, now, {
      orgId: input.orgId,
      actor: input.actor,
      action: 'token.revoked',
      targetType: 'api_token',
      targetId: token.id,
      before: { name: token.name, kind: 'system', system_account_id: account.id },
    });
  });
}

/** The system account as the API shows it (snake_case), tokens without their secrets. */
export function presentSystemAccount(account: SystemAccount) {
  return {
    id: account.id,
    org_id: account.orgId,
    name: account.name,
    roles: account.roles,
    created_at: account.createdAt.toISOString(),
    tokens: account.tokens.map(presentSystemToken),
  };
}

/** A system account token as the API shows it, without its secret. */
export function presentSystemToken(row: TokenRow) {
  return {
    id: row.id,
    system_account_id: row.systemAccountId,
    name: row.name,
    kind: row.kind,
    prefix: row.prefix,
    created_at: row.createdAt.toISOString(),
    expires_at: row.expiresAt?.toISOString() ?? null,
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
    revoked_at: row.revokedAt?.toISOString() ?? null,
  };
}
