import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import type { signUpOwner, TestInstance } from './instance.ts';

/** The test provider's cards (spec 5). */
export const CARD_OK = '4242424242424242';
export const CARD_DECLINED = '4000000000000002';
export const CARD_FAILS = '4000000000000341';

/** The catalog's Plus numbers (spec 2), written here independently of the implementation. */
export interface Price {
  fee: bigint;
  included: bigint;
  perMillion: bigint;
}
export const PLUS: Price = { fee: 10_000n, included: 1_000_000n, perMillion: 2_000n };

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** Someone who logs in with a password: an owner from signUpOwner, or a member who joined. */
export type Person = Awaited<ReturnType<typeof signUpOwner>>;

export const iso = (ms: number | Date) => new Date(ms).toISOString();
export const ms = (text: string) => Date.parse(text);

/**
 * The anchor plus k calendar months, time of day kept, day clamped to the month's end. Written
 * independently of src/kernel/calendar.ts: Date.UTC(y, m + 1, 0) is the last day of month m.
 */
export function plusMonths(anchor: string, k: number): string {
  const start = new Date(anchor);
  const y = start.getUTCFullYear();
  const m = start.getUTCMonth() + k;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const day = Math.min(start.getUTCDate(), lastDay);
  return iso(
    Date.UTC(y, m, day, start.getUTCHours(), start.getUTCMinutes(), start.getUTCSeconds(), start.getUTCMilliseconds()),
  );
}

/** C_k = B_k − 72 h. */
export const minus72h = (billingAt: string) => iso(ms(billingAt) - 72 * HOUR);

/** round_half_up(n / d) for non-negative integers, exactly. */
export function roundHalfUp(n: bigint, d: bigint): bigint {
  const q = n / d;
  return (n % d) * 2n >= d ? q + 1n : q;
}

/** The usage line amount of spec 3. */
export function overage(
  requests: bigint,
  included: bigint = PLUS.included,
  perMillion: bigint = PLUS.perMillion,
): bigint {
  const billable = requests > included ? requests - included : 0n;
  return roundHalfUp(billable * perMillion, 1_000_000n);
}

/** The prorated plan fee of spec 4: whole seconds used over whole seconds of the period. */
export function prorated(fee: bigint, periodStart: string, at: string, periodEnd: string): bigint {
  const used = BigInt(Math.floor((ms(at) - ms(periodStart)) / 1000));
  const whole = BigInt(Math.floor((ms(periodEnd) - ms(periodStart)) / 1000));
  return roundHalfUp(fee * used, whole);
}

/** "USD 1,234.56", as a person reads an amount in an email. */
export function money(amount: bigint): string {
  const whole = (amount / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `USD ${whole}.${(amount % 100n).toString().padStart(2, '0')}`;
}

export function expectStatus(response: { status: number; body: any }, status: number) {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
}

export function expectError(response: { status: number; body: any }, status: number, code: string, field?: string) {
  expectStatus(response, status);
  expect(response.body.error.code).toBe(code);
  if (field !== undefined) expect(response.body.error.field).toBe(field);
}

/** A complete card body; `overrides` replace whole parts. */
export function cardBody(number = CARD_OK, overrides: { card?: object; billing_details?: object } = {}) {
  return {
    card: { number, exp_month: 12, exp_year: 2031, cvc: '123', ...overrides.card },
    billing_details: {
      name: 'Ada Lovelace',
      email: 'billing@example.com',
      address: { line1: '1 Analytical Way', city: 'London', postal_code: 'N1 9GU', country: 'GB' },
      ...overrides.billing_details,
    },
  };
}

/** Helpers bound to one test instance: every call goes through the real HTTP stack. */
export function billingHelpers(t: TestInstance) {
  let staffCookie: string | undefined;

  /** A staff session, logged in again when the last one went idle over a clock jump. */
  async function staff(): Promise<string> {
    if (staffCookie) {
      const me = await t.call('GET', '/v1/me', { cookie: staffCookie });
      if (me.status === 200 && me.body.staff_roles) return staffCookie;
    }
    const response = await t.call('POST', '/v1/auth/login', {
      body: { email: 'admin@tierline.test', password: 'admin-password-1' },
    });
    expectStatus(response, 200);
    staffCookie = response.cookie as string;
    return staffCookie;
  }

  /** Logs the person into the org again (sessions end after 24 h idle); updates their cookie. */
  async function logInAgain(person: Person) {
    const response = await t.call('POST', '/v1/auth/login', {
      body: { email: person.email, password: person.password, org_id: person.orgId },
    });
    expectStatus(response, 200);
    person.cookie = response.cookie as string;
    return person;
  }

  /**
   * Moves the test clock and logs the given people in again afterwards. With people, the clock moves
   * at most 25 days at a time and they log in at each stop, as active customers do: their free orgs
   * are never idle long enough to be deactivated.
   */
  async function advance(to: string, ...people: Person[]) {
    const target = Date.parse(to);
    let body: any;
    for (;;) {
      const current = Date.parse((await t.call('GET', '/v1/test-clock')).body.now);
      const step = people.length > 0 ? Math.min(target, current + 25 * 86_400_000) : target;
      const response = await t.call('POST', '/v1/test-clock/advance', { body: { to: new Date(step).toISOString() } });
      expectStatus(response, 200);
      expect(response.body.failed, `due work failed while advancing to ${to}`).toBe(0);
      for (const person of people) await logInAgain(person);
      body = response.body;
      if (step >= target) return body;
    }
  }

  async function now(): Promise<string> {
    return (await t.call('GET', '/v1/test-clock')).body.now;
  }

  async function addCard(person: Person, number = CARD_OK) {
    return t.call('POST', `/v1/orgs/${person.orgId}/payment-methods`, {
      cookie: person.cookie,
      body: cardBody(number),
    });
  }

  /** Adds a card and upgrades to Plus with it; returns the payment method and subscription. */
  async function subscribePlus(person: Person, number = CARD_OK) {
    const card = await addCard(person, number);
    expectStatus(card, 201);
    const upgraded = await t.call('POST', `/v1/orgs/${person.orgId}/subscription`, {
      cookie: person.cookie,
      body: { plan: 'plus', payment_method_id: card.body.id },
    });
    expectStatus(upgraded, 200);
    return { paymentMethod: card.body, subscription: upgraded.body };
  }

  async function downgrade(person: Person) {
    return t.call('DELETE', `/v1/orgs/${person.orgId}/subscription`, { cookie: person.cookie });
  }

  async function preview(person: Person, plan: string) {
    return t.call('POST', `/v1/orgs/${person.orgId}/subscription/preview`, { cookie: person.cookie, body: { plan } });
  }

  /** Registers a runtime and returns a reporter that sends usage with fresh report ids. */
  async function runtime(person: Person) {
    const response = await t.call('POST', `/v1/orgs/${person.orgId}/runtimes`, {
      cookie: person.cookie,
      body: { name: `gw-${randomBytes(3).toString('hex')}` },
    });
    expectStatus(response, 201);
    const token = response.body.token as string;
    return {
      token,
      /** Reports {timestamp: requests}; answers the raw response. */
      async send(usage: Record<string, number>, reportId = `r-${randomBytes(6).toString('hex')}`) {
        return t.call('POST', '/v1/runtime/usage', {
          token,
          body: {
            report_id: reportId,
            usage: Object.entries(usage).map(([timestamp, requests]) => ({ timestamp, requests })),
          },
        });
      },
      async report(usage: Record<string, number>, reportId?: string) {
        const response = await this.send(usage, reportId);
        expectStatus(response, 200);
        return response.body;
      },
    };
  }

  /** Every invoice of the org, newest first (all pages). */
  async function invoices(person: Person): Promise<any[]> {
    const all: any[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const response = await t.call('GET', `/v1/orgs/${person.orgId}/invoices?limit=100${query}`, {
        cookie: person.cookie,
      });
      expectStatus(response, 200);
      all.push(...response.body.data);
      cursor = response.body.next_cursor;
    } while (cursor);
    return all;
  }

  async function invoice(person: Person, id: string) {
    const response = await t.call('GET', `/v1/orgs/${person.orgId}/invoices/${id}`, { cookie: person.cookie });
    expectStatus(response, 200);
    return response.body;
  }

  async function billing(person: Person) {
    const response = await t.call('GET', `/v1/orgs/${person.orgId}/billing`, { cookie: person.cookie });
    expectStatus(response, 200);
    return response.body;
  }

  async function org(person: Person) {
    const response = await t.call('GET', `/v1/orgs/${person.orgId}`, { cookie: person.cookie });
    expectStatus(response, 200);
    return response.body;
  }

  /** Emails to the address, newest first. */
  async function outbox(to: string): Promise<any[]> {
    const response = await t.call('GET', `/v1/admin/outbox?limit=100&to=${encodeURIComponent(to)}`, {
      cookie: await staff(),
    });
    expectStatus(response, 200);
    return response.body.data;
  }

  /** Every audit event of the org, newest first. */
  async function audit(person: Person): Promise<any[]> {
    const all: any[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const response = await t.call('GET', `/v1/orgs/${person.orgId}/audit-events?limit=100${query}`, {
        cookie: person.cookie,
      });
      expectStatus(response, 200);
      all.push(...response.body.data);
      cursor = response.body.next_cursor;
    } while (cursor);
    return all;
  }

  /** Invites a person into the org with roles and accepts through the emailed link. */
  async function join(owner: Person, roles: string[]): Promise<Person> {
    const email = `member-${randomBytes(4).toString('hex')}@example.com`;
    const invited = await t.call('POST', `/v1/orgs/${owner.orgId}/invitations`, {
      cookie: owner.cookie,
      body: { email, roles },
    });
    expectStatus(invited, 201);
    const [mail] = await outbox(email);
    const token = /token=(\S+)/.exec(mail.body)?.[1];
    const password = 'member-password-1';
    const accepted = await t.call('POST', '/v1/invitations/accept', {
      body: { token, password, full_name: `Member ${email}` },
    });
    expectStatus(accepted, 200);
    return { email, password, userId: accepted.body.user.id, orgId: owner.orgId, cookie: accepted.cookie as string };
  }

  /**
   * The test provider's ledger, read from the database: every charge made, keyed
   * `<invoice id>:<attempt>`. The only place the tests look under the API, to count real charges.
   */
  async function charges(): Promise<Array<{ invoiceId: string; attempt: number; status: string; amount: bigint }>> {
    const result = await t.database.db.execute(
      sql`select idempotency_key, status, amount::text as amount from test_provider_charges order by created_at, idempotency_key`,
    );
    const rows = (result as unknown as { rows: Array<{ idempotency_key: string; status: string; amount: string }> })
      .rows;
    return rows.map((row) => {
      const [invoiceId, attempt] = row.idempotency_key.split(':');
      return { invoiceId, attempt: Number(attempt), status: row.status, amount: BigInt(row.amount) };
    });
  }

  async function chargesOf(invoiceId: string) {
    return (await charges()).filter((charge) => charge.invoiceId === invoiceId);
  }

  return {
    staff,
    logInAgain,
    advance,
    now,
    addCard,
    subscribePlus,
    downgrade,
    preview,
    runtime,
    invoices,
    invoice,
    billing,
    org,
    outbox,
    audit,
    join,
    charges,
    chargesOf,
  };
}

/** The line of a kind on an invoice (or preview). */
export function line(invoice: { lines: any[] }, kind: 'plan_fee' | 'usage') {
  const found = invoice.lines.filter((entry) => entry.kind === kind);
  expect(found, `one ${kind} line`).toHaveLength(1);
  return found[0];
}
