import type { Database } from '../../db/client.ts';
import { fail } from '../../kernel/errors.ts';
import { type Actor, recordAudits } from '../audit/index.ts';
import { type EmailLockRow, normalizeEmail, unlockEmail } from '../identity/index.ts';

/** Support lift every lock on an email (spec 8): it can sign up again; its orgs stay as they are. */
export async function unlockEmailByStaff(
  db: Database,
  now: Date,
  input: { email: string; actor: Actor },
): Promise<EmailLockRow[]> {
  const email = normalizeEmail(input.email);
  return db.transaction(async (tx) => {
    const lifted = await unlockEmail(tx, email);
    if (lifted.length === 0) throw fail.notFound('email lock');
    await recordAudits(
      tx,
      now,
      lifted.map((lock) => ({
        orgId: lock.orgId,
        actor: input.actor,
        action: 'email.unlocked',
        targetType: 'email_lock',
        targetId: lock.id,
        before: { email: lock.email, locked: true, reason: lock.reason },
        after: { email: lock.email, locked: false },
      })),
    );
    return lifted;
  });
}
