/**
 * The inactivity sweep: `orgs` free orgs, of which `due` reach their t* at the same instant T. Measures
 * the time the due-work runner takes to deactivate those with every effect of spec 8, and the cost of
 * a runner pass when nothing is due, next to baselines from the same run: the bare UPDATE of as many
 * orgs' status, and every effect written with one set-based statement per table.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import type { Database } from '../src/db/client.ts';
import { createTierline } from '../src/tierline.ts';
import { percentile } from './harness.ts';

export interface SweepResult {
  sweep_orgs: number;
  sweep_due: number;
  /** The faster of the measured concurrencies (sweep_deactivate_concurrency says which). */
  sweep_deactivate_s: number;
  sweep_deactivate_concurrency: number;
  sweep_deactivate_c1_s: number;
  sweep_deactivate_c2_s?: number;
  sweep_idle_pass_ms: number;
  sweep_idle_pass_p99_ms: number;
  sweep_idle_first_pass_ms: number;
  sweep_idle_pass_vacuumed_ms: number;
  sweep_baseline_update_s: number;
  sweep_baseline_set_based_s: number;
  sweep_peak_rss_mib: number;
  sweep_note?: string;
}

/** The instant the `due` orgs reach t*. */
const T = '2027-06-01T00:00:00.000Z';
const IDLE_PASSES = 500;

type Rows<T> = { rows: T[] };

function peakRssMiB(): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Math.round(Number(match[1]) / 1024) : 0;
}

async function rows<R>(db: Database, query: ReturnType<typeof sql>): Promise<R[]> {
  return ((await db.execute(query)) as unknown as Rows<R>).rows;
}

/**
 * Seeds what sign-up and a life on Free leave behind, with set-based SQL. Every org has its owner, a
 * control plane, the owner role, its sign-up and a later login, the audit events of its creation and
 * one pending inactivity check at its next milestone. Shares (hash of the org number, the same among
 * due and other orgs): 20% an extra member (a quarter of them org_admin), 10% a team of owner and
 * member, 30% an open session, 2% a pending invitation, 5% a system account with roles, 10% some old
 * traffic. Every `orgs / due`-th org reaches t* at T (last login 30 days before); the others reach it
 * within the next 30 days. `bench_sweep_seed` keeps which org is which for the checks.
 */
export async function seedSweep(db: Database, orgs: number, due: number): Promise<void> {
  const step = orgs / due;
  await db.execute(sql`
    create table bench_sweep_seed as
    select g, due, projected, last_login, last_login - interval '60 days' - (g % 300) * interval '1 day' as created_at,
      case when due then projected
           when projected - interval '7 days' > ${T}::timestamptz then projected - interval '7 days'
           when projected - interval '1 day' > ${T}::timestamptz then projected - interval '1 day'
           else projected end as next_check,
      'org_' || substr(md5('org' || g), 1, 20) as org_id,
      'usr_' || substr(md5('usr' || g), 1, 20) as owner_id,
      'usr_' || substr(md5('mbr' || g), 1, 20) as member_id,
      'owner' || g || '@sweep.test' as email,
      abs(hashint4extended(g, 1)) % 100 as h_member,
      abs(hashint4extended(g, 2)) % 100 < 30 as has_session,
      abs(hashint4extended(g, 3)) % 100 < 2 as has_invitation,
      abs(hashint4extended(g, 4)) % 100 < 5 as has_system_account,
      abs(hashint4extended(g, 5)) % 100 < 10 as has_usage
    from (
      select g, due, projected, projected - interval '30 days' as last_login
      from (
        select g, g % ${step} = 0 as due,
          case when g % ${step} = 0 then ${T}::timestamptz
               else ${T}::timestamptz + (1 + g % 43199) * interval '1 minute' end as projected
        from generate_series(1, ${orgs}) g
      ) a
    ) b`);
  await db.execute(sql`create unique index on bench_sweep_seed (org_id)`);
  await db.execute(sql`
    insert into users (id, email, password_hash, full_name, created_at)
    select owner_id, email, 'unused', 'Owner ' || g, created_at from bench_sweep_seed
    union all
    select member_id, 'member' || g || '@sweep.test', 'unused', 'Member ' || g, created_at + interval '1 day'
    from bench_sweep_seed where h_member < 20`);
  await db.execute(sql`
    insert into orgs (id, name, email, owner_user_id, status, plan, created_at, last_login_at, projected_deactivation_at)
    select org_id, 'Sweep org ' || g, email, owner_id, 'active', 'free', created_at, last_login, projected
    from bench_sweep_seed order by g`);
  await db.execute(sql`
    insert into control_planes (id, org_id, status, created_at)
    select 'cp_' || substr(md5('cp' || g), 1, 20), org_id, 'active', created_at from bench_sweep_seed`);
  await db.execute(sql`
    insert into memberships (org_id, user_id, created_at)
    select org_id, owner_id, created_at from bench_sweep_seed
    union all
    select org_id, member_id, created_at + interval '1 day' from bench_sweep_seed where h_member < 20`);
  await db.execute(sql`
    insert into member_roles (org_id, user_id, role)
    select org_id, owner_id, 'owner' from bench_sweep_seed
    union all
    select org_id, member_id, case when h_member < 5 then 'org_admin' else 'member' end
    from bench_sweep_seed where h_member < 20`);
  await db.execute(sql`
    insert into teams (id, org_id, name, roles, created_at)
    select 'team_' || substr(md5('team' || g), 1, 20), org_id, 'Admins', '{org_admin}', created_at + interval '1 day'
    from bench_sweep_seed where h_member < 10`);
  await db.execute(sql`
    insert into team_members (org_id, team_id, user_id)
    select org_id, 'team_' || substr(md5('team' || g), 1, 20), owner_id from bench_sweep_seed where h_member < 10
    union all
    select org_id, 'team_' || substr(md5('team' || g), 1, 20), member_id from bench_sweep_seed where h_member < 10`);
  await db.execute(sql`
    insert into sessions (id, token_hash, user_id, org_id, is_staff, created_at, last_seen_at, expires_at)
    select 'ses_' || substr(md5('ses' || g), 1, 20), md5('token' || g), owner_id, org_id, false, last_login,
      last_login, last_login + interval '7 days'
    from bench_sweep_seed where has_session`);
  await db.execute(sql`
    insert into invitations (id, org_id, email, roles, token_hash, invited_by, status, created_at, expires_at)
    select 'inv_' || substr(md5('inv' || g), 1, 20), org_id, 'invitee' || g || '@sweep.test', '{member}',
      md5('invitation' || g), owner_id, 'pending', ${T}::timestamptz - interval '2 days',
      ${T}::timestamptz + interval '5 days'
    from bench_sweep_seed where has_invitation`);
  await db.execute(sql`
    insert into system_accounts (id, org_id, name, roles, created_at)
    select 'sa_' || substr(md5('sa' || g), 1, 20), org_id, 'ci', '{org_admin}', created_at + interval '2 days'
    from bench_sweep_seed where has_system_account`);
  await db.execute(sql`
    insert into login_events (id, org_id, user_id, method, at)
    select 'lgn_' || substr(md5('signup' || g), 1, 20), org_id, owner_id, 'signup', created_at from bench_sweep_seed
    union all
    select 'lgn_' || substr(md5('login' || g), 1, 20), org_id, owner_id, 'password', last_login from bench_sweep_seed`);
  // Old traffic, in the org's first cycle: its floor (start of cycle 2) lies before the last login.
  await db.execute(sql`
    insert into usage_state (org_id, subscription_id, window_started_at)
    select org_id, '', null from bench_sweep_seed where has_usage`);
  await db.execute(sql`
    insert into usage_minutes (org_id, minute, service, subscription_id, invoice_id, requests, latest_at)
    select org_id, date_trunc('minute', created_at + interval '1 day'), 'api', '', '', 100 + g % 1000,
      created_at + interval '1 day' + interval '30 seconds'
    from bench_sweep_seed where has_usage`);
  await db.execute(sql`
    insert into audit_events (id, org_id, actor_type, actor_id, action, target_type, target_id, after, created_at)
    select 'aud_' || substr(md5('uc' || g), 1, 20), org_id, 'user', owner_id, 'user.created', 'user', owner_id,
      jsonb_build_object('email', email), created_at from bench_sweep_seed
    union all
    select 'aud_' || substr(md5('oc' || g), 1, 20), org_id, 'user', owner_id, 'org.created', 'org', org_id,
      jsonb_build_object('name', 'Sweep org ' || g, 'email', email, 'owner_user_id', owner_id), created_at
    from bench_sweep_seed`);
  // The inactivity checks: one pending per org at its next milestone; the due orgs' two warnings are done.
  await db.execute(sql`
    insert into due_items (id, kind, subject_id, due_at, status, attempts, created_at, processed_at)
    select 'due_' || substr(md5('chk' || g), 1, 20), 'org_inactivity', org_id, next_check, 'pending', 0,
      projected - interval '8 days', null from bench_sweep_seed
    union all
    select 'due_' || substr(md5('w7' || g), 1, 20), 'org_inactivity', org_id, projected - interval '7 days', 'done', 1,
      last_login, projected - interval '7 days' from bench_sweep_seed where due
    union all
    select 'due_' || substr(md5('w1' || g), 1, 20), 'org_inactivity', org_id, projected - interval '1 day', 'done', 1,
      projected - interval '7 days', projected - interval '1 day' from bench_sweep_seed where due
    union all
    select 'due_' || substr(md5('ie' || g), 1, 20), 'invitation_expiry', 'inv_' || substr(md5('inv' || g), 1, 20),
      ${T}::timestamptz + interval '5 days', 'pending', 0, ${T}::timestamptz - interval '2 days', null
    from bench_sweep_seed where has_invitation`);
  await db.execute(sql`
    insert into outbox_emails (id, "to", subject, kind, body, org_id, created_at, sent_at)
    select 'eml_' || substr(md5('e' || d || g), 1, 20), email, 'Sweep org ' || g || ' will be deactivated',
      'inactivity_warning_' || d || 'd', 'The free organization has had no login and no API traffic for a while.',
      org_id, projected - d * interval '1 day', projected - d * interval '1 day'
    from bench_sweep_seed, (values (7), (1)) w(d) where due`);
  await db.execute(sql`vacuum analyze`);
}

/** Counts that must hold after the sweep; throws with every one that does not. */
async function check(db: Database, orgs: number, due: number, fingerprintBefore: string): Promise<string[]> {
  const [seeded] = await rows<Record<string, number>>(
    db,
    sql`
    select
      count(*) filter (where due and has_session)::int as sessions,
      count(*) filter (where due and has_invitation)::int as invitations,
      count(*) filter (where due and has_system_account)::int as system_accounts,
      (count(*) filter (where due) + count(*) filter (where due and h_member < 20))::int as roles,
      (2 * count(*) filter (where due and h_member < 10))::int as team_members
    from bench_sweep_seed`,
  );
  const [found] = await rows<Record<string, number>>(
    db,
    sql`
    select
      (select count(*) from orgs o join bench_sweep_seed s on s.org_id = o.id
        where s.due and o.status = 'deactivated' and o.deactivation_reason = 'inactivity'
          and o.deactivated_at = ${T}::timestamptz and o.projected_deactivation_at is null)::int as orgs_deactivated,
      (select count(*) from orgs where status = 'deactivated')::int as orgs_deactivated_total,
      (select count(*) from control_planes c join bench_sweep_seed s on s.org_id = c.org_id
        where s.due and c.status = 'decommissioned' and c.decommissioned_at = ${T}::timestamptz)::int as control_planes,
      (select count(*) from control_planes where status <> 'active')::int as control_planes_total,
      (select count(*) from member_roles m join bench_sweep_seed s on s.org_id = m.org_id where s.due)::int
        as roles_left,
      (select count(*) from team_members m join bench_sweep_seed s on s.org_id = m.org_id where s.due)::int
        as team_members_left,
      (select count(*) from system_accounts a join bench_sweep_seed s on s.org_id = a.org_id
        where s.due and cardinality(a.roles) > 0)::int as system_account_roles_left,
      (select count(*) from sessions x join bench_sweep_seed s on s.org_id = x.org_id
        where s.due and x.ended_at = ${T}::timestamptz)::int as sessions_ended,
      (select count(*) from sessions where ended_at is not null)::int as sessions_ended_total,
      (select count(*) from invitations x join bench_sweep_seed s on s.org_id = x.org_id
        where s.due and x.status = 'revoked')::int as invitations_revoked,
      (select count(*) from invitations where status <> 'pending')::int as invitations_revoked_total,
      (select count(*) from email_locks l join bench_sweep_seed s on s.org_id = l.org_id
        where s.due and l.email = s.email and l.reason = 'inactivity')::int as email_locks,
      (select count(*) from email_locks)::int as email_locks_total,
      (select count(*) from outbox_emails e join bench_sweep_seed s on s.org_id = e.org_id
        where s.due and e.kind = 'org_deactivated' and e."to" = s.email)::int as notices,
      (select count(*) from outbox_emails where kind = 'org_deactivated')::int as notices_total,
      (select count(*) from audit_events a join bench_sweep_seed s on s.org_id = a.org_id
        where s.due and a.action = 'org.deactivated' and a.reason = 'inactivity' and a.actor_type = 'system')::int
        as audits,
      (select count(*) from audit_events where action = 'org.deactivated')::int as audits_total,
      (select coalesce(sum(jsonb_array_length(before -> 'access' -> 'roles')), 0) from audit_events
        where action = 'org.deactivated')::int as audit_roles,
      (select coalesce(sum(jsonb_array_length(before -> 'access' -> 'teams')), 0) from audit_events
        where action = 'org.deactivated')::int as audit_team_members,
      (select coalesce(sum(jsonb_array_length(before -> 'access' -> 'system_accounts')), 0) from audit_events
        where action = 'org.deactivated')::int as audit_system_accounts,
      (select count(*) from audit_events where action = 'control_plane.decommissioned')::int as audits_control_plane,
      (select count(*) from due_items d join bench_sweep_seed s on s.org_id = d.subject_id
        where s.due and d.kind = 'org_inactivity' and d.due_at = ${T}::timestamptz and d.status = 'done')::int
        as items_done,
      (select count(*) from due_items d join bench_sweep_seed s on s.org_id = d.subject_id
        where s.due and d.status = 'pending')::int as items_pending_due_orgs,
      (select count(*) from due_items where status = 'pending' and due_at <= ${T}::timestamptz)::int as items_due_left,
      (select count(*) from due_items where status = 'failed' or attempts > 1 or last_error is not null)::int
        as items_failed`,
  );
  const expected: Record<string, number> = {
    orgs_deactivated: due,
    orgs_deactivated_total: due,
    control_planes: due,
    control_planes_total: due,
    roles_left: 0,
    team_members_left: 0,
    system_account_roles_left: 0,
    sessions_ended: seeded.sessions,
    sessions_ended_total: seeded.sessions,
    invitations_revoked: seeded.invitations,
    invitations_revoked_total: seeded.invitations,
    email_locks: due,
    email_locks_total: due,
    notices: due,
    notices_total: due,
    audits: due,
    audits_total: due,
    audit_roles: seeded.roles,
    audit_team_members: seeded.team_members,
    audit_system_accounts: seeded.system_accounts,
    audits_control_plane: due,
    items_done: due,
    items_pending_due_orgs: 0,
    items_due_left: 0,
    items_failed: 0,
  };
  const wrong = Object.entries(expected)
    .filter(([key, value]) => found[key] !== value)
    .map(([key, value]) => `${key}: expected ${value}, found ${found[key]}`);
  const fingerprintAfter = await untouchedFingerprint(db);
  if (fingerprintAfter !== fingerprintBefore) {
    wrong.push(`the other ${orgs - due} orgs changed: ${fingerprintBefore} before, ${fingerprintAfter} after`);
  }
  if (wrong.length > 0) throw new Error(`sweep result is wrong:\n  ${wrong.join('\n  ')}`);
  return Object.keys(expected);
}

/**
 * Count and order-independent hash of every row that belongs to an org that is not due, in every
 * table deactivation writes to: none of them may change.
 */
async function untouchedFingerprint(db: Database): Promise<string> {
  const tables: Array<[string, string]> = [
    ['orgs', 'id'],
    ['control_planes', 'org_id'],
    ['memberships', 'org_id'],
    ['member_roles', 'org_id'],
    ['teams', 'org_id'],
    ['team_members', 'org_id'],
    ['sessions', 'org_id'],
    ['invitations', 'org_id'],
    ['system_accounts', 'org_id'],
    ['subscriptions', 'org_id'],
    ['email_locks', 'org_id'],
    ['audit_events', 'org_id'],
    ['outbox_emails', 'org_id'],
    ['due_items', 'subject_id'],
  ];
  const parts: string[] = [];
  for (const [table, column] of tables) {
    const [row] = await rows<{ n: string; h: string }>(
      db,
      sql.raw(`
      select count(*)::text as n, coalesce(sum(hashtext(t::text)::bigint), 0)::text as h
      from ${table} t join bench_sweep_seed s on s.org_id = t.${column} where not s.due`),
    );
    parts.push(`${table}=${row.n}/${row.h}`);
  }
  return parts.join(' ');
}

/**
 * Baselines on `due` orgs that are not due, in transactions rolled back: the bare UPDATE of their
 * status, then every effect of deactivation with one set-based statement per table (what a
 * hand-written SQL sweep would cost, without the rule check, locks or per-batch round trips).
 */
async function baselines(db: Database, due: number): Promise<{ update: number; setBased: number }> {
  await db.execute(sql`drop table if exists bench_sweep_baseline`);
  await db.execute(sql`
    create table bench_sweep_baseline as
    select org_id as id, email from bench_sweep_seed where not due order by g limit ${due}`);
  await db.execute(sql`create unique index on bench_sweep_baseline (id)`);
  await db.execute(sql`analyze bench_sweep_baseline`);
  const rollback = new Error('rollback');
  const timed = async (work: (tx: Database) => Promise<void>) => {
    let seconds = 0;
    try {
      await db.transaction(async (tx) => {
        const started = performance.now();
        await work(tx as unknown as Database);
        seconds = (performance.now() - started) / 1000;
        throw rollback;
      });
    } catch (error) {
      if (error !== rollback) throw error;
    }
    return seconds;
  };
  const update = await timed(async (tx) => {
    await tx.execute(sql`
      update orgs set status = 'deactivated', deactivated_at = ${T}::timestamptz, deactivation_reason = 'inactivity',
        projected_deactivation_at = null
      where id in (select id from bench_sweep_baseline)`);
  });
  const setBased = await timed(async (tx) => {
    const now = sql`${T}::timestamptz`;
    await tx.execute(sql`select id from orgs where id in (select id from bench_sweep_baseline) order by id for update`);
    await tx.execute(sql`
      update orgs set status = 'deactivated', deactivated_at = ${now}, deactivation_reason = 'inactivity',
        projected_deactivation_at = null
      where id in (select id from bench_sweep_baseline)`);
    await tx.execute(sql`
      update due_items set status = 'done', processed_at = ${now}, attempts = attempts + 1
      where kind = 'org_inactivity' and status = 'pending' and subject_id in (select id from bench_sweep_baseline)`);
    await tx.execute(sql`
      update sessions set ended_at = ${now}
      where org_id in (select id from bench_sweep_baseline) and ended_at is null`);
    await tx.execute(sql`
      update invitations set status = 'revoked'
      where org_id in (select id from bench_sweep_baseline) and status = 'pending'`);
    await tx.execute(sql`
      with decommissioned as (
        update control_planes set status = 'decommissioned', decommissioned_at = ${now}
        where org_id in (select id from bench_sweep_baseline) and status = 'active'
        returning id, org_id)
      insert into audit_events (id, org_id, actor_type, action, target_type, target_id, before, after, reason, created_at)
      select 'aud_' || md5('cp' || id), org_id, 'system', 'control_plane.decommissioned', 'control_plane', id,
        '{"status": "active"}', '{"status": "decommissioned"}', 'inactivity', ${now}
      from decommissioned`);
    await tx.execute(sql`
      with roles as (
        delete from member_roles where org_id in (select id from bench_sweep_baseline)
        returning org_id, jsonb_build_object('user_id', user_id, 'role', role) as entry),
      team_rows as (
        delete from team_members where org_id in (select id from bench_sweep_baseline)
        returning org_id, jsonb_build_object('team_id', team_id, 'user_id', user_id) as entry),
      accounts as (
        update system_accounts s set roles = '{}' from system_accounts old
        where s.org_id = old.org_id and s.id = old.id and s.org_id in (select id from bench_sweep_baseline) and cardinality(s.roles) > 0
        returning s.org_id, jsonb_build_object('id', s.id, 'roles', old.roles) as entry),
      removed as (
        select org_id, jsonb_agg(entry) filter (where kind = 'role') as roles,
          jsonb_agg(entry) filter (where kind = 'team') as teams,
          jsonb_agg(entry) filter (where kind = 'account') as accounts
        from (select org_id, entry, 'role' as kind from roles union all select org_id, entry, 'team' from team_rows
              union all select org_id, entry, 'account' from accounts) x
        group by org_id)
      insert into audit_events (id, org_id, actor_type, action, target_type, target_id, before, after, reason, created_at)
      select 'aud_' || md5('od' || b.id), b.id, 'system', 'org.deactivated', 'org', b.id,
        jsonb_build_object('status', 'active', 'plan', 'free', 'access', jsonb_build_object(
          'roles', coalesce(r.roles, '[]'), 'teams', coalesce(r.teams, '[]'),
          'system_accounts', coalesce(r.accounts, '[]'))),
        jsonb_build_object('status', 'deactivated', 'plan', 'free', 'email_locked', b.email, 'final_invoice_id', null),
        'inactivity', ${now}
      from bench_sweep_baseline b left join removed r on r.org_id = b.id`);
    await tx.execute(sql`
      insert into email_locks (id, email, org_id, reason, created_at)
      select 'elk_' || md5(id), email, id, 'inactivity', ${now} from bench_sweep_baseline
      on conflict do nothing`);
    await tx.execute(sql`
      insert into outbox_emails (id, "to", subject, kind, body, org_id, created_at)
      select 'eml_' || md5('od' || id), email, 'The organization has been deactivated', 'org_deactivated',
        'The organization was deactivated because it had no login and no API traffic for 30 days.', id, ${now}
      from bench_sweep_baseline`);
  });
  await db.execute(sql`drop table bench_sweep_baseline`);
  return { update, setBased };
}

/** Server databases only: a copy of a seeded database (files copied, so every run starts alike). */
async function cloneDatabase(env: Record<string, string>) {
  const source = new URL(env.DATABASE_URL);
  const name = `${source.pathname.slice(1)}_c${Math.random().toString(36).slice(2, 8)}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name} template ${source.pathname.slice(1)} strategy file_copy`);
  const url = new URL(source);
  url.pathname = `/${name}`;
  return {
    env: { ...env, DATABASE_URL: url.toString() },
    drop: () => admin(`drop database if exists ${name} with (force)`),
  };
}

/** Where the server's WAL is and how many checkpoints it made so far. */
async function walPosition(db: Database) {
  const [row] = await rows<{ lsn: string; checkpoints: number }>(
    db,
    sql`select pg_current_wal_lsn()::text as lsn,
      (select checkpoints_timed + checkpoints_req from pg_stat_bgwriter)::int as checkpoints`,
  );
  return row;
}

/** WAL written and checkpoints made since `before` (the machine's whole server: other databases too). */
async function walSince(db: Database, before: { lsn: string; checkpoints: number }): Promise<string> {
  const after = await walPosition(db);
  const [row] = await rows<{ bytes: string }>(
    db,
    sql`select pg_wal_lsn_diff(${after.lsn}::pg_lsn, ${before.lsn}::pg_lsn)::bigint::text as bytes`,
  );
  return `, server WAL ${Math.round(Number(row.bytes) / 2 ** 20)} MiB, ${after.checkpoints - before.checkpoints} checkpoints`;
}

async function open(env: Record<string, string>) {
  return createTierline(loadConfig({ ...env, TIERLINE_LOG_LEVEL: 'warn' }));
}

/** Seeds, sweeps at each concurrency (checking the result), then times idle passes and baselines. */
export async function benchSweep(
  kind: 'embedded' | 'postgres',
  env: Record<string, string>,
  sizes: { orgs: number; due: number; note?: string },
): Promise<SweepResult> {
  const { orgs, due } = sizes;
  if (orgs % due !== 0) throw new Error('orgs must be a multiple of due');
  // Start the peak-memory count afresh (Linux): earlier benchmarks ran in this same process.
  writeFileSync('/proc/self/clear_refs', '5');
  const concurrencies = kind === 'postgres' ? [1, 2] : [1];
  const seconds = new Map<number, number>();
  const seeded = await open(env);
  let seededOpen = true;
  const log = (text: string) => console.log(`   ${text}`);
  try {
    let started = performance.now();
    await seedSweep(seeded.deps.db, orgs, due);
    log(`seeded ${orgs} orgs in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const fingerprint = await untouchedFingerprint(seeded.deps.db);
    // On a server, each concurrency runs on its own copy of the seeded database.
    if (kind === 'postgres') {
      seededOpen = false;
      await seeded.close();
    }
    for (const [index, concurrency] of concurrencies.entries()) {
      const last = index === concurrencies.length - 1;
      const copy = kind === 'postgres' ? await cloneDatabase(env) : undefined;
      const tierline = copy ? await open(copy.env) : seeded;
      const db = tierline.deps.db;
      try {
        if (kind === 'postgres') await db.execute(sql`checkpoint`);
        const walBefore = kind === 'postgres' ? await walPosition(db) : undefined;
        const load = os.loadavg()[0].toFixed(1);
        started = performance.now();
        const outcome = await tierline.deps.runner.runDue(new Date(T), { concurrency });
        const elapsed = (performance.now() - started) / 1000;
        seconds.set(concurrency, elapsed);
        const wal = walBefore ? await walSince(db, walBefore) : '';
        log(`concurrency ${concurrency}: ${outcome.processed} items in ${elapsed.toFixed(2)} s (load ${load}${wal})`);
        if (outcome.processed !== due || outcome.failed !== 0) {
          throw new Error(`the sweep processed ${outcome.processed} of ${due} items, ${outcome.failed} failed`);
        }
        const checked = await check(db, orgs, due, fingerprint);
        log(`checked: ${checked.length} counts and the other ${orgs - due} orgs untouched`);
        if (!last) continue;

        // Idle passes: nothing due at T any more, the other orgs' checks pending later.
        const idle = async () => {
          const durations: number[] = [];
          for (let pass = 0; pass < IDLE_PASSES; pass++) {
            const before = performance.now();
            const result = await tierline.deps.runner.runDue(new Date(T));
            durations.push(performance.now() - before);
            if (result.processed !== 0) throw new Error(`an idle pass processed ${result.processed} items`);
          }
          return durations;
        };
        const afterSweep = await idle();
        const first = afterSweep[0];
        const sorted = afterSweep.slice(1).sort((a, b) => a - b);
        await db.execute(sql`vacuum analyze due_items`);
        const vacuumed = (await idle()).sort((a, b) => a - b);
        log(`idle pass: first ${first.toFixed(2)} ms, then median ${percentile(sorted, 50).toFixed(3)} ms`);
        const baseline = await baselines(db, due);
        const fastest = [...seconds].sort((a, b) => a[1] - b[1])[0];
        return {
          sweep_orgs: orgs,
          sweep_due: due,
          sweep_deactivate_s: Number(fastest[1].toFixed(2)),
          sweep_deactivate_concurrency: fastest[0],
          sweep_deactivate_c1_s: Number((seconds.get(1) as number).toFixed(2)),
          ...(seconds.has(2) ? { sweep_deactivate_c2_s: Number((seconds.get(2) as number).toFixed(2)) } : {}),
          sweep_idle_pass_ms: Number(percentile(sorted, 50).toFixed(3)),
          sweep_idle_pass_p99_ms: Number(percentile(sorted, 99).toFixed(3)),
          sweep_idle_first_pass_ms: Number(first.toFixed(2)),
          sweep_idle_pass_vacuumed_ms: Number(percentile(vacuumed, 50).toFixed(3)),
          sweep_baseline_update_s: Number(baseline.update.toFixed(3)),
          sweep_baseline_set_based_s: Number(baseline.setBased.toFixed(3)),
          sweep_peak_rss_mib: peakRssMiB(),
          ...(sizes.note ? { sweep_note: sizes.note } : {}),
        };
      } finally {
        if (copy) {
          await tierline.close();
          await copy.drop();
        }
      }
    }
    throw new Error('no concurrency measured');
  } finally {
    if (seededOpen) await seeded.close();
  }
}
