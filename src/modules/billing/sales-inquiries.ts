import type { Database } from '../../db/client.ts';
import { fail } from '../../kernel/errors.ts';
import { type Actor, recordAudit } from '../audit/index.ts';
import { isValidEmail } from '../identity/index.ts';
import { queueEmail } from '../notifications/index.ts';
import { getOrg } from '../organizations/index.ts';
import { insertSalesInquiry } from './billing.repo.ts';

/** Where Contact Sales forms are sent. */
export const SALES_INBOX = 'sales@tierline.local';

/** An org admin's Contact Sales form: kept for sales staff and emailed to the sales inbox. */
export async function submitSalesInquiry(
  db: Database,
  now: Date,
  input: { orgId: string; actor: Actor; name: string; email: string; company: string; message: string },
) {
  const fields = { name: input.name.trim(), company: input.company.trim(), message: input.message.trim() };
  for (const [field, value] of Object.entries(fields))
    if (!value) throw fail.validation(field, `${field} is required.`);
  if (!isValidEmail(input.email)) throw fail.validation('email', 'The email address is not valid.');
  return db.transaction(async (tx) => {
    const org = await getOrg(tx, input.orgId);
    const inquiry = await insertSalesInquiry(tx, {
      orgId: org.id,
      createdBy: input.actor.id,
      ...fields,
      email: input.email.trim(),
      createdAt: now,
    });
    await queueEmail(tx, now, {
      to: SALES_INBOX,
      orgId: org.id,
      kind: 'sales_inquiry',
      subject: `Enterprise inquiry from ${fields.company} (${org.name})`,
      body: `${fields.name} <${input.email.trim()}> of ${fields.company} asks about Enterprise for ${org.name} (${org.id}):\n\n${fields.message}`,
    });
    await recordAudit(tx, now, {
      orgId: org.id,
      actor: input.actor,
      action: 'sales_inquiry.submitted',
      targetType: 'sales_inquiry',
      targetId: inquiry.id,
      after: { company: fields.company },
    });
    return inquiry;
  });
}
