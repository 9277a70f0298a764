import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingHelpers, expectStatus } from '../helpers/billing.ts';
import { createTestInstance, signUpOwner, type TestInstance } from '../helpers/instance.ts';

/**
 * The org-scoped tables a distributed PostgreSQL (Citus) would shard by org_id, and their primary keys
 * (docs/scaling.md, "Keys and sharding by org_id"). Such a database requires the distribution column
 * in every primary key and unique index, and in foreign keys between sharded tables.
 */
const ORG_SCOPED: Record<string, string[]> = {
  control_planes: ['org_id', 'id'],
  api_tokens: ['org_id', 'id'],
  login_events: ['org_id', 'id'],
  system_accounts: ['org_id', 'id'],
  invitations: ['org_id', 'id'],
  memberships: ['org_id', 'user_id'],
  member_roles: ['org_id', 'user_id', 'role'],
  teams: ['org_id', 'id'],
  team_members: ['org_id', 'team_id', 'user_id'],
  runtimes: ['org_id', 'id'],
  usage_reports: ['org_id', 'runtime_id', 'report_id'],
  usage_minutes: ['org_id', 'minute', 'service', 'subscription_id', 'invoice_id'],
  usage_state: ['org_id'],
  payment_methods: ['org_id', 'id'],
  subscriptions: ['org_id', 'id'],
  invoices: ['org_id', 'id'],
  invoice_lines: ['org_id', 'invoice_id', 'position'],
  payment_attempts: ['org_id', 'id'],
  sales_inquiries: ['org_id', 'id'],
};
const TABLES = Object.keys(ORG_SCOPED);

let t: TestInstance;

async function rows<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  return ((await t.deps.db.execute(query)) as unknown as { rows: T[] }).rows;
}

/** Every unique index (primary keys included) of the tables, with its columns in order. */
async function uniqueIndexes() {
  return rows<{ table_name: string; index_name: string; is_primary: boolean; columns: string[] }>(sql`
    select c.relname as table_name, ic.relname as index_name, i.indisprimary as is_primary,
      array(
        select coalesce(a.attname::text, '(expression)')
        from unnest(i.indkey::int2[]) with ordinality as k(attnum, position)
        left join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
        order by k.position
      ) as columns
    from pg_index i
    join pg_class c on c.oid = i.indrelid
    join pg_class ic on ic.oid = i.indexrelid
    join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and i.indisunique
      and c.relname in (select jsonb_array_elements_text(${JSON.stringify(TABLES)}::jsonb))
    order by 1, 2`);
}

beforeAll(async () => {
  t = await createTestInstance();
});
afterAll(async () => {
  await t?.close();
});

describe('keys of the org-scoped tables (what sharding by org_id needs)', () => {
  it('keys every org-scoped table by org_id first', async () => {
    const primaryKeys = Object.fromEntries(
      (await uniqueIndexes()).filter((index) => index.is_primary).map((index) => [index.table_name, index.columns]),
    );
    expect(primaryKeys).toEqual(ORG_SCOPED);
  });

  it('starts every unique index of those tables with org_id', async () => {
    const indexes = await uniqueIndexes();
    // Unique indexes besides the keys exist (one active subscription per org, invoice numbers, …).
    expect(indexes.filter((index) => !index.is_primary).length).toBeGreaterThanOrEqual(6);
    const notLeading = indexes.filter((index) => index.columns[0] !== 'org_id');
    expect(notLeading.map((index) => `${index.index_name} (${index.columns.join(', ')})`)).toEqual([]);
  });

  it('includes org_id on both sides of every foreign key between them', async () => {
    const foreignKeys = await rows<{ name: string; columns: string[]; referenced: string[] }>(sql`
      select con.conname as name,
        array(select a.attname::text from unnest(con.conkey) k join pg_attribute a
              on a.attrelid = con.conrelid and a.attnum = k) as columns,
        array(select a.attname::text from unnest(con.confkey) k join pg_attribute a
              on a.attrelid = con.confrelid and a.attnum = k) as referenced
      from pg_constraint con
      join pg_class c on c.oid = con.conrelid
      join pg_class r on r.oid = con.confrelid
      where con.contype = 'f'
        and (c.relname in (select jsonb_array_elements_text(${JSON.stringify(TABLES)}::jsonb))
          or r.relname in (select jsonb_array_elements_text(${JSON.stringify(TABLES)}::jsonb)))`);
    const broken = foreignKeys.filter((key) => !key.columns.includes('org_id') || !key.referenced.includes('org_id'));
    expect(broken.map((key) => key.name)).toEqual([]);
  });

  it('gives invoice lines their own, required org_id', async () => {
    const [column] = await rows<{ is_nullable: string }>(sql`
      select is_nullable from information_schema.columns
      where table_schema = 'public' and table_name = 'invoice_lines' and column_name = 'org_id'`);
    expect(column?.is_nullable).toBe('NO');
  });
});

describe('invoice numbers', () => {
  // Their unique index starts with org_id: across orgs, only the one sequence keeps them apart.
  it('stay distinct across orgs past a million: TL-999999 is followed by TL-1000000', async () => {
    await t.deps.db.execute(sql`select setval('invoice_numbers', 999998)`);
    const billing = billingHelpers(t);
    const numbers: string[] = [];
    for (let i = 0; i < 2; i++) {
      const owner = await signUpOwner(t);
      await billing.subscribePlus(owner);
      const ended = await billing.downgrade(owner);
      expectStatus(ended, 200);
      numbers.push(ended.body.final_invoice.number);
    }
    expect(numbers).toEqual(['TL-999999', 'TL-1000000']);
  });
});
