import {
  billingAt,
  calculatedPeriods,
  calculationAt,
  failingAttempts,
  overageAmount,
  PLUS_FEE,
  periodIndexAt,
  projectedDeactivation,
  proratedFee,
} from './oracle.ts';
import { ADMIN, type CrashServer, type Sql } from './server.ts';
import { DAY, MINUTE, type Org, type Report, type World } from './world.ts';

const iso = (ms: number) => new Date(ms).toISOString();
const ms = (value: unknown): number => (value instanceof Date ? value.getTime() : Date.parse(String(value)));
const msOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : ms(value));

/** What the checks counted, for the report. */
export interface Figures {
  reportsSent: number;
  reportsAcked: number;
  reportsRefused: number;
  reportsInterrupted: number;
  unacknowledgedButStored: number;
  recordsAcked: number;
  requestsCounted: bigint;
  invoices: Record<string, number>;
  charges: Record<string, number>;
  dueItems: Record<string, number>;
  deactivated: Record<string, number>;
}

/**
 * Every check of the crash suite, collected rather than thrown so that one run reports all it found:
 * usage counted exactly once, no invoice or charge twice, every due item done once with single effects,
 * and no org half-deactivated. API reads first (while the server runs), then SQL on the database.
 */
export class Checks {
  readonly problems: string[] = [];
  private readonly server: CrashServer;
  private readonly world: World;
  private readonly end: number;
  private readonly apiUsage = new Map<string, number>();
  private readonly apiInvoiceCounts = new Map<string, number>();

  constructor(server: CrashServer, world: World, end: number) {
    this.server = server;
    this.world = world;
    this.end = end;
  }

  private fail(what: string) {
    this.problems.push(what);
  }

  private orgLabel(org: Org) {
    return `org ${org.index} (${org.group}, ${org.id})`;
  }

  /** Through the API, as staff and as each org's owner (personal token), while the server runs. */
  async throughApi(): Promise<void> {
    const login = await this.server.call('POST', '/v1/auth/login', { body: ADMIN });
    if (login.status !== 200) throw new Error(`staff login: ${login.status}`);
    const staff = login.cookie as string;
    const usageQuery = `start=${iso(this.world.start - DAY)}&end=${iso(this.end + DAY)}&granularity=day`;
    for (const org of this.world.orgs) {
      const detail = await this.server.call('GET', `/v1/admin/orgs/${org.id}`, { cookie: staff });
      if (detail.status !== 200) {
        this.fail(`${this.orgLabel(org)}: staff detail answered ${detail.status}`);
        continue;
      }
      const status = detail.body.org.status;
      const own = await this.server.call('GET', `/v1/orgs/${org.id}`, { token: org.token });
      if (status === 'active') {
        if (own.status !== 200) this.fail(`${this.orgLabel(org)}: active, but its owner's token got ${own.status}`);
        if (detail.body.control_plane?.status !== 'active') {
          this.fail(`${this.orgLabel(org)}: active with control plane ${JSON.stringify(detail.body.control_plane)}`);
        }
        const usage = await this.server.call('GET', `/v1/orgs/${org.id}/usage?${usageQuery}`, { token: org.token });
        if (usage.status !== 200) this.fail(`${this.orgLabel(org)}: usage answered ${usage.status}`);
        else this.apiUsage.set(org.id, usage.body.total);
        let count = 0;
        let cursor: string | null = null;
        do {
          const page: any = await this.server.call(
            'GET',
            `/v1/orgs/${org.id}/invoices?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
            { token: org.token },
          );
          if (page.status !== 200) {
            this.fail(`${this.orgLabel(org)}: invoices answered ${page.status}`);
            break;
          }
          count += page.body.data.length;
          cursor = page.body.next_cursor;
        } while (cursor);
        this.apiInvoiceCounts.set(org.id, count);
      } else {
        if (own.status !== 403 || own.body?.error?.code !== 'org_deactivated') {
          this.fail(`${this.orgLabel(org)}: deactivated, but its owner's token got ${own.status}`);
        }
        if (detail.body.control_plane?.status === 'active')
          this.fail(`${this.orgLabel(org)}: deactivated, control plane active`);
        const roles = detail.body.members.flatMap((member: any) => [
          ...(member.roles ?? []),
          ...(member.team_roles ?? []),
        ]);
        if (roles.length > 0)
          this.fail(`${this.orgLabel(org)}: deactivated, members keep roles ${JSON.stringify(roles)}`);
        const signup = await this.server.call('POST', '/v1/signup', {
          body: { email: org.email, password: 'crash-password-1', full_name: 'Again', org_name: 'Again' },
        });
        if (signup.status !== 409 || signup.body?.error?.code !== 'email_locked') {
          this.fail(`${this.orgLabel(org)}: deactivated, signing up with its email got ${signup.status}`);
        }
        for (const runtime of org.runtimes) {
          // A runtime of a deactivated org is refused; its report is kept in the world to prove it is not counted.
          const report: Report = {
            runtime,
            reportId: `${runtime.prefix}-probe`,
            usage: [{ timestamp: iso(this.end), requests: 7 }],
            requests: 7n,
            latestEventAt: this.end,
            round: -1,
            outcome: 'unsent',
            sends: 1,
            wasInterrupted: false,
          };
          const answer = await this.server.call('POST', '/v1/runtime/usage', {
            token: runtime.token,
            body: { report_id: report.reportId, usage: report.usage },
          });
          if (answer.status === 403 && answer.body?.error?.code === 'control_plane_decommissioned') {
            report.outcome = 'refused';
          } else {
            report.outcome = answer.status === 200 ? 'acked' : 'refused';
            this.fail(`${this.orgLabel(org)}: deactivated, its runtime's report got ${answer.status}`);
          }
          this.world.reports.push(report);
        }
      }
    }
  }

  /** Everything else, with SQL on the database (after the server stopped on the embedded database). */
  async throughSql(sql: Sql): Promise<Figures> {
    const data = await load(sql);
    const figures: Figures = {
      reportsSent: 0,
      reportsAcked: 0,
      reportsRefused: 0,
      reportsInterrupted: 0,
      unacknowledgedButStored: 0,
      recordsAcked: 0,
      requestsCounted: 0n,
      invoices: {},
      charges: {},
      dueItems: {},
      deactivated: {},
    };
    const latestByOrg = this.checkUsage(data, figures);
    this.checkInvoices(data, figures);
    this.checkDueItems(data, figures);
    this.checkLifecycle(data, figures, latestByOrg);
    return figures;
  }

  /** Every acknowledged report stored once with its requests, nothing else stored, every minute's count exact. */
  private checkUsage(data: Data, figures: Figures): Map<string, number> {
    const stored = new Map(data.reports.map((row) => [`${row.runtime_id}/${row.report_id}`, row]));
    const expectedByOrg = new Map<string, bigint>();
    const expectedByMinute = new Map<string, bigint>();
    const latestByOrg = new Map<string, number>();
    const known = new Set<string>();
    for (const report of this.world.reports) {
      const key = `${report.runtime.id}/${report.reportId}`;
      if (known.has(key)) this.fail(`report ${key} is in the world twice (suite bug)`);
      known.add(key);
      if (report.round >= 0) figures.reportsSent++;
      if (report.outcome === 'acked') figures.reportsAcked++;
      if (report.outcome === 'refused') figures.reportsRefused++;
      if (report.wasInterrupted) figures.reportsInterrupted++;
      const row = stored.get(key);
      if (report.outcome === 'acked' && !row) this.fail(`acknowledged report ${key} is not stored: lost`);
      if (report.outcome !== 'acked' && !report.wasInterrupted && row) {
        this.fail(`report ${key} was refused (${report.outcome}) yet stored`);
      }
      if (!row) continue;
      if (report.outcome !== 'acked') figures.unacknowledgedButStored++;
      if (BigInt(row.requests) !== report.requests || Number(row.records) !== report.usage.length) {
        this.fail(
          `report ${key}: stored ${row.requests} requests in ${row.records} records, sent ${report.requests} in ${report.usage.length}`,
        );
      }
      if (report.outcome === 'acked') figures.recordsAcked += report.usage.length;
      const orgId = report.runtime.orgId;
      expectedByOrg.set(orgId, (expectedByOrg.get(orgId) ?? 0n) + report.requests);
      latestByOrg.set(orgId, Math.max(latestByOrg.get(orgId) ?? 0, report.latestEventAt));
      for (const record of report.usage) {
        const minute = Math.floor(Date.parse(record.timestamp) / MINUTE) * MINUTE;
        const minuteKey = `${orgId}/${minute}`;
        expectedByMinute.set(minuteKey, (expectedByMinute.get(minuteKey) ?? 0n) + BigInt(record.requests));
      }
    }
    for (const key of stored.keys()) {
      if (!known.has(key)) this.fail(`report ${key} is stored but was never sent`);
    }
    const actualByMinute = new Map(
      data.usageByMinute.map((row) => [`${row.org_id}/${ms(row.minute)}`, BigInt(row.requests)]),
    );
    for (const [key, expected] of expectedByMinute) {
      const actual = actualByMinute.get(key) ?? 0n;
      if (actual !== expected) this.fail(`usage of ${key}: ${actual} requests counted, ${expected} sent and accepted`);
    }
    for (const [key, actual] of actualByMinute) {
      if (!expectedByMinute.has(key)) this.fail(`usage of ${key}: ${actual} requests counted, none sent`);
    }
    for (const org of this.world.orgs) {
      const expected = expectedByOrg.get(org.id) ?? 0n;
      figures.requestsCounted += expected;
      const api = this.apiUsage.get(org.id);
      if (api !== undefined && BigInt(api) !== expected) {
        this.fail(`${this.orgLabel(org)}: GET usage says ${api} requests, ${expected} were accepted`);
      }
      const acked = this.world.reports
        .filter((report) => report.runtime.orgId === org.id && report.outcome === 'acked')
        .reduce((sum, report) => sum + report.requests, 0n);
      if (expected < acked) this.fail(`${this.orgLabel(org)}: ${expected} requests counted, ${acked} acknowledged`);
      const latest = data.latestByOrg.get(org.id) ?? null;
      const expectedLatest = latestByOrg.get(org.id) ?? null;
      if (latest !== expectedLatest) {
        this.fail(
          `${this.orgLabel(org)}: latest request at ${latest && iso(latest)}, sent ${expectedLatest && iso(expectedLatest)}`,
        );
      }
    }
    return latestByOrg;
  }

  /** Invoices against the calendar, their lines against what they billed, and charges against attempts. */
  private checkInvoices(data: Data, figures: Figures) {
    const orgById = new Map(this.world.orgs.map((org) => [org.id, org]));
    const invoicesBySubscription = groupBy(data.invoices, (invoice) => invoice.subscription_id);
    const attemptsByInvoice = groupBy(data.attempts, (attempt) => attempt.invoice_id);
    const chargesByInvoice = groupBy(data.charges, (charge) => String(charge.idempotency_key).split(':')[0]);
    const billedByInvoice = new Map(data.billed.map((row) => [row.invoice_id, row]));
    const numbers = new Set<string>();
    const invoiceIds = new Set(data.invoices.map((invoice) => invoice.id));
    for (const invoice of data.invoices) {
      if (numbers.has(invoice.number)) this.fail(`invoice number ${invoice.number} used twice`);
      numbers.add(invoice.number);
      const label = `${invoice.kind} invoice ${invoice.number} (${invoice.id}) of ${invoice.org_id}`;
      figures.invoices[`${invoice.kind} ${invoice.status}`] =
        (figures.invoices[`${invoice.kind} ${invoice.status}`] ?? 0) + 1;
      // Lines: the fee, the usage it billed priced exactly, the total their sum.
      const fee = BigInt(invoice.fee_amount ?? -1);
      const usageQuantity = BigInt(invoice.usage_quantity ?? -1);
      const usageAmount = BigInt(invoice.usage_amount ?? -1);
      if (usageAmount !== overageAmount(usageQuantity))
        this.fail(`${label}: usage line ${usageQuantity} priced ${usageAmount}`);
      if (BigInt(invoice.total) !== fee + usageAmount)
        this.fail(`${label}: total ${invoice.total} ≠ ${fee} + ${usageAmount}`);
      const billed = billedByInvoice.get(invoice.id);
      if (invoice.status === 'void') {
        if (billed) this.fail(`${label}: void, yet ${billed.requests} requests are still marked billed by it`);
      } else {
        const billedRequests = billed ? BigInt(billed.requests) : 0n;
        if (billedRequests !== usageQuantity) {
          this.fail(`${label}: bills ${usageQuantity} requests, ${billedRequests} are marked billed by it`);
        }
        if (billed && ms(billed.latest_minute) >= ms(invoice.calculated_at)) {
          this.fail(`${label}: bills a request of ${iso(ms(billed.latest_minute))}, after its calculation`);
        }
      }
      // Charges: one ledger entry per attempt with a card, keyed <invoice>:<n>, the same outcome; one success at most.
      const attempts = (attemptsByInvoice.get(invoice.id) ?? []).sort(
        (a, b) => ms(a.attempted_at) - ms(b.attempted_at),
      );
      const charges = chargesByInvoice.get(invoice.id) ?? [];
      const succeeded = attempts.filter((attempt) => attempt.status === 'succeeded');
      if (succeeded.length > 1) this.fail(`${label}: ${succeeded.length} successful payments`);
      if (charges.filter((charge) => charge.status === 'succeeded').length > 1) this.fail(`${label}: charged twice`);
      const withCard = attempts.filter((attempt) => attempt.payment_method_id !== null);
      if (charges.length !== withCard.length) {
        this.fail(`${label}: ${charges.length} charges at the provider for ${withCard.length} attempts`);
      }
      withCard.forEach((attempt, index) => {
        const charge = charges.find((entry) => entry.idempotency_key === `${invoice.id}:${index + 1}`);
        if (!charge) this.fail(`${label}: attempt ${index + 1} has no charge keyed ${invoice.id}:${index + 1}`);
        else if (charge.status !== attempt.status || BigInt(charge.amount) !== BigInt(invoice.total)) {
          this.fail(`${label}: attempt ${index + 1} ${attempt.status}, charge ${charge.status} of ${charge.amount}`);
        }
      });
      for (const charge of charges) figures.charges[charge.status] = (figures.charges[charge.status] ?? 0) + 1;
      if (invoice.status === 'paid' && BigInt(invoice.total) > 0n && succeeded.length !== 1) {
        this.fail(`${label}: paid with ${succeeded.length} successful payments`);
      }
      // Effects of due work, once each: the calculation's audit and email, one audit per collection outcome.
      const audits = data.audits.filter((audit) => audit.target_id === invoice.id);
      const calculated = audits.filter((audit) => audit.action === 'invoice.calculated').length;
      if (calculated !== (invoice.kind === 'cycle' ? 1 : 0))
        this.fail(`${label}: ${calculated} invoice.calculated audits`);
      const emails = data.emails.filter(
        (email) => email.kind === 'invoice_upcoming' && String(email.subject).includes(` ${invoice.number}:`),
      ).length;
      if (emails !== (invoice.kind === 'cycle' ? 1 : 0)) this.fail(`${label}: ${emails} invoice_upcoming emails`);
      const outcomes = audits.filter(
        (audit) =>
          ['invoice.paid', 'invoice.past_due', 'invoice.uncollectible'].includes(audit.action) &&
          audit.attempt !== null,
      );
      const expectedOutcomes = BigInt(invoice.total) === 0n ? (invoice.status === 'paid' ? 1 : 0) : attempts.length;
      if (outcomes.length !== expectedOutcomes) {
        this.fail(`${label}: ${outcomes.length} collection audits for ${attempts.length} attempts`);
      }
    }
    for (const row of data.billed) {
      if (!invoiceIds.has(row.invoice_id))
        this.fail(`${row.requests} requests marked billed by a missing invoice ${row.invoice_id}`);
    }
    for (const row of data.billed) {
      const invoice = data.invoices.find((entry) => entry.id === row.invoice_id);
      if (invoice && invoice.subscription_id !== row.subscription_id) {
        this.fail(
          `requests of subscription ${row.subscription_id} billed by ${invoice.id} of ${invoice.subscription_id}`,
        );
      }
    }

    for (const subscription of data.subscriptions) {
      const org = orgById.get(subscription.org_id);
      if (!org) {
        this.fail(`subscription ${subscription.id} of an unknown org`);
        continue;
      }
      this.checkSubscription(
        org,
        subscription,
        invoicesBySubscription.get(subscription.id) ?? [],
        attemptsByInvoice,
        data,
      );
    }
    for (const org of this.world.orgs) {
      const subscriptions = data.subscriptions.filter((row) => row.org_id === org.id);
      const expected = org.subscriptionId ? 1 : 0;
      if (subscriptions.length !== expected) this.fail(`${this.orgLabel(org)}: ${subscriptions.length} subscriptions`);
      const apiCount = this.apiInvoiceCounts.get(org.id);
      const sqlCount = data.invoices.filter((invoice) => invoice.org_id === org.id).length;
      if (apiCount !== undefined && apiCount !== sqlCount) {
        this.fail(`${this.orgLabel(org)}: the API lists ${apiCount} invoices, the database holds ${sqlCount}`);
      }
    }
  }

  private checkSubscription(
    org: Org,
    subscription: Row,
    invoices: Row[],
    attemptsByInvoice: Map<string, Row[]>,
    data: Data,
  ) {
    const label = `${this.orgLabel(org)} subscription ${subscription.id}`;
    const startedAt = ms(subscription.started_at);
    const endedAt = msOrNull(subscription.ended_at);
    const cycles = invoices.filter((invoice) => invoice.kind === 'cycle');
    const finals = invoices.filter((invoice) => invoice.kind === 'final');
    const attemptsOf = (invoice: Row) => attemptsByInvoice.get(invoice.id) ?? [];
    for (const invoice of cycles) {
      const k = Number(invoice.period_index);
      if (
        ms(invoice.period_start) !== billingAt(startedAt, k - 1) ||
        ms(invoice.period_end) !== billingAt(startedAt, k)
      ) {
        this.fail(
          `${label}: cycle invoice ${k} covers ${iso(ms(invoice.period_start))} to ${iso(ms(invoice.period_end))}`,
        );
      }
      if (ms(invoice.calculated_at) !== calculationAt(startedAt, k))
        this.fail(`${label}: cycle invoice ${k} calculated at ${invoice.calculated_at}`);
      if (BigInt(invoice.fee_amount) !== PLUS_FEE) this.fail(`${label}: cycle invoice ${k} fee ${invoice.fee_amount}`);
    }
    const liveCycles = cycles.filter((invoice) => invoice.status !== 'void');
    const byPeriod = groupBy(liveCycles, (invoice) => String(invoice.period_index));
    for (const [k, list] of byPeriod)
      if (list.length > 1) this.fail(`${label}: ${list.length} cycle invoices for period ${k}`);
    if (finals.length > 1) this.fail(`${label}: ${finals.length} final invoices`);
    // No day of service charged twice: the periods of the invoices that stand (not void) and charge a
    // fee never overlap (a final invoice of a period already collected charges none; usage is checked
    // on its own, request by request).
    const standing = invoices
      .filter((invoice) => invoice.status !== 'void' && BigInt(invoice.fee_amount) > 0n)
      .sort((a, b) => ms(a.period_start) - ms(b.period_start) || ms(a.period_end) - ms(b.period_end));
    for (let i = 1; i < standing.length; i++) {
      const [before, after] = [standing[i - 1], standing[i]];
      if (ms(after.period_start) < ms(before.period_end)) {
        this.fail(
          `${label}: ${iso(ms(after.period_start))} to ${iso(Math.min(ms(before.period_end), ms(after.period_end)))} ` +
            `billed twice: ${before.kind} invoice ${before.number} (${before.status}, ${before.total}) and ` +
            `${after.kind} invoice ${after.number} (${after.status}, ${after.total})`,
        );
      }
    }

    // Which cycle invoices exist: every k with C_k up to the end (the clock, or the subscription's end).
    const until = endedAt ?? this.end;
    const expectedPeriods = calculatedPeriods(startedAt, until);
    for (const k of expectedPeriods) {
      const found = cycles.filter((invoice) => Number(invoice.period_index) === k);
      const mayBeMissing = endedAt !== null && calculationAt(startedAt, k) === endedAt;
      if (found.length === 0 && !mayBeMissing) this.fail(`${label}: no cycle invoice for period ${k}`);
    }
    for (const invoice of cycles) {
      // A plan change reads its instant D once, when the request arrives; when it runs after the
      // calculation at C_k > D (the clock moved on meanwhile), it finds invoice k open and voids it,
      // as for C_k ≤ D < B_k. Such an invoice may exist, void; standing, it is billed after the end.
      if (!expectedPeriods.includes(Number(invoice.period_index)) && invoice.status !== 'void') {
        this.fail(
          `${label}: cycle invoice for period ${invoice.period_index} (${invoice.status}), calculated after the end`,
        );
      }
    }

    if (org.group === 'plus_ok') {
      if (subscription.status !== 'active') this.fail(`${label}: ${subscription.status}, expected active`);
      for (const invoice of cycles) {
        const k = Number(invoice.period_index);
        const expected = billingAt(startedAt, k) <= this.end ? 'paid' : 'open';
        if (invoice.status !== expected)
          this.fail(`${label}: cycle invoice ${k} is ${invoice.status}, expected ${expected}`);
        const attempts = attemptsOf(invoice);
        const expectedAttempts = expected === 'paid' && BigInt(invoice.total) > 0n ? 1 : 0;
        if (attempts.length !== expectedAttempts)
          this.fail(`${label}: cycle invoice ${k} has ${attempts.length} payment attempts`);
      }
      const next = data.dueItems.filter(
        (item) =>
          item.kind === 'invoice_calculation' && item.subject_id === subscription.id && item.status === 'pending',
      );
      const k = expectedPeriods.length + 1;
      if (next.length !== 1 || ms(next[0].due_at) !== calculationAt(startedAt, k)) {
        this.fail(
          `${label}: pending calculations ${JSON.stringify(next.map((item) => item.due_at))}, expected one at C_${k}`,
        );
      }
    }

    if (org.group === 'plus_fail') {
      const attemptsAt = failingAttempts(startedAt).filter((at) => at <= this.end);
      const isGivenUp = attemptsAt.length === 4;
      const expectedEnd = isGivenUp ? attemptsAt[3] : null;
      if (endedAt !== expectedEnd)
        this.fail(`${label}: ended at ${endedAt && iso(endedAt)}, expected ${expectedEnd && iso(expectedEnd)}`);
      if (isGivenUp && subscription.end_reason !== 'payment_failed')
        this.fail(`${label}: ended for ${subscription.end_reason}`);
      const first = cycles.find((invoice) => Number(invoice.period_index) === 1);
      if (first) {
        const attempts = attemptsOf(first);
        const expectedStatus = ['open', 'past_due', 'past_due', 'past_due', 'uncollectible'][attemptsAt.length];
        if (first.status !== expectedStatus)
          this.fail(`${label}: invoice 1 is ${first.status}, expected ${expectedStatus}`);
        if (attempts.length !== attemptsAt.length || attempts.some((attempt) => attempt.status !== 'failed')) {
          this.fail(
            `${label}: invoice 1 has attempts ${JSON.stringify(attempts.map((a) => [a.status, a.attempted_at]))}`,
          );
        }
        const times = attempts.map((attempt) => ms(attempt.attempted_at)).sort((a, b) => a - b);
        if (times.join() !== attemptsAt.join())
          this.fail(`${label}: invoice 1 attempted at ${times.map(iso).join(', ')}`);
      }
      if (isGivenUp) this.checkFinal(label, startedAt, endedAt as number, finals, attemptsOf, 'uncollectible');
      else if (finals.length > 0) this.fail(`${label}: a final invoice before the subscription ended`);
    }

    if (org.group === 'plus_downgrade' || org.group === 'plus_deactivate') {
      const reason = org.group === 'plus_downgrade' ? 'downgrade' : 'deactivation';
      if (subscription.status !== 'ended' || endedAt === null) {
        this.fail(`${label}: ${subscription.status}, expected ended (${reason})`);
        return;
      }
      if (subscription.end_reason !== reason)
        this.fail(`${label}: ended for ${subscription.end_reason}, expected ${reason}`);
      let feeAlreadyBilled = false;
      for (const invoice of cycles) {
        const k = Number(invoice.period_index);
        // Collected before D (B_k ≤ D): paid. Else replaced by the final invoice (C_k ≤ D < B_k, or
        // calculated after D as above): void. Paid with B_k > D, the final charges its days again.
        // A change that waited while B_k came (D < B_k, collected first) leaves invoice k paid; the final
        // invoice then charges no fee for the period (docs/decisions.md).
        const collectedFirst =
          invoice.status === 'paid' &&
          finals.some((final) => Number(final.period_index) === k && BigInt(final.fee_amount) === 0n);
        const expected = billingAt(startedAt, k) <= endedAt || collectedFirst ? 'paid' : 'void';
        if (collectedFirst) feeAlreadyBilled = true;
        if (invoice.status !== expected)
          this.fail(`${label}: cycle invoice ${k} is ${invoice.status}, expected ${expected}`);
        const attempts = attemptsOf(invoice);
        const expectedAttempts = expected === 'paid' && BigInt(invoice.total) > 0n ? 1 : 0;
        if (attempts.length !== expectedAttempts)
          this.fail(`${label}: cycle invoice ${k} has ${attempts.length} payment attempts`);
      }
      this.checkFinal(label, startedAt, endedAt, finals, attemptsOf, 'paid', feeAlreadyBilled);
    }
    if (endedAt !== null) {
      const unbilled = data.unbilledOfEnded.get(subscription.id);
      if (unbilled && ms(unbilled.earliest) < endedAt) {
        this.fail(
          `${label}: ${unbilled.requests} accepted requests with event times from ${iso(ms(unbilled.earliest))} to ` +
            `${iso(ms(unbilled.latest))}, inside the subscription (ended ${iso(endedAt)}), were never billed`,
        );
      }
      const pending = data.dueItems.filter(
        (item) =>
          item.kind === 'invoice_calculation' && item.subject_id === subscription.id && item.status === 'pending',
      );
      if (pending.length > 0) this.fail(`${label}: ended, yet a calculation is pending`);
      const ended = data.audits.filter(
        (audit) => audit.action === 'subscription.ended' && audit.target_id === subscription.id,
      );
      if (ended.length !== 1) this.fail(`${label}: ${ended.length} subscription.ended audits`);
    }
  }

  private checkFinal(
    label: string,
    startedAt: number,
    endedAt: number,
    finals: Row[],
    attemptsOf: (invoice: Row) => Row[],
    expectedStatus: string,
    feeAlreadyBilled = false,
  ) {
    if (finals.length !== 1) {
      this.fail(`${label}: ${finals.length} final invoices, expected 1`);
      return;
    }
    const [final] = finals;
    const k = periodIndexAt(startedAt, endedAt);
    const periodStart = billingAt(startedAt, k - 1);
    if (
      Number(final.period_index) !== k ||
      ms(final.period_start) !== periodStart ||
      ms(final.period_end) !== endedAt
    ) {
      this.fail(
        `${label}: final invoice for period ${final.period_index} ${final.period_start} to ${final.period_end}`,
      );
    }
    const fee = feeAlreadyBilled ? 0n : proratedFee(periodStart, billingAt(startedAt, k), endedAt);
    if (BigInt(final.fee_amount) !== fee) this.fail(`${label}: final fee ${final.fee_amount}, expected ${fee}`);
    const status = BigInt(final.total) === 0n ? 'paid' : expectedStatus;
    if (final.status !== status) this.fail(`${label}: final invoice is ${final.status}, expected ${status}`);
    const attempts = attemptsOf(final);
    const expectedAttempts = BigInt(final.total) === 0n ? 0 : 1;
    if (attempts.length !== expectedAttempts)
      this.fail(`${label}: final invoice has ${attempts.length} payment attempts`);
  }

  /** Due work: everything up to the clock done or cancelled, done once (one attempt), nothing failed. */
  private checkDueItems(data: Data, figures: Figures) {
    for (const item of data.dueItems) {
      const key = `${item.kind} ${item.status}`;
      figures.dueItems[key] = (figures.dueItems[key] ?? 0) + 1;
      const dueAt = ms(item.due_at);
      const label = `due item ${item.kind} of ${item.subject_id} at ${iso(dueAt)}`;
      if (item.status === 'failed' || item.last_error) this.fail(`${label}: ${item.status}, ${item.last_error}`);
      if (item.status === 'pending' && dueAt <= this.end)
        this.fail(`${label}: still pending after the clock passed it`);
      if (item.status === 'done' && Number(item.attempts) !== 1)
        this.fail(`${label}: done after ${item.attempts} attempts`);
      if (item.status === 'done' && ms(item.processed_at) !== dueAt)
        this.fail(`${label}: processed as of ${item.processed_at}`);
    }
  }

  /** Who is deactivated, when, and that it is whole; who is active and that it is whole too; warnings once. */
  private checkLifecycle(data: Data, figures: Figures, latestByOrg: Map<string, number>) {
    for (const org of this.world.orgs) {
      const label = this.orgLabel(org);
      const row = data.orgs.get(org.id);
      if (!row) {
        this.fail(`${label}: missing`);
        continue;
      }
      if (msOrNull(row.last_login_at) !== org.lastLoginAt)
        this.fail(`${label}: last login moved to ${row.last_login_at}`);
      const subscription = data.subscriptions.find((entry) => entry.org_id === org.id);
      const endedAt = subscription ? msOrNull(subscription.ended_at) : null;
      const isFreeNow = !subscription || endedAt !== null;
      /** Since when the org is free: its creation, or the end of its subscription. */
      const freeFrom = endedAt ?? org.createdAt;
      const projected = projectedDeactivation({
        createdAt: org.createdAt,
        lastLoginAt: org.lastLoginAt,
        latestRequestAt: latestByOrg.get(org.id) ?? null,
        freeSince: endedAt ?? undefined,
      });
      let expectedDeactivation: { at: number | null; reason: string } | null = null;
      if (org.group === 'plus_deactivate') expectedDeactivation = { at: null, reason: 'support_request' };
      else if (isFreeNow && projected <= this.end) expectedDeactivation = { at: projected, reason: 'inactivity' };
      const orgAudits = data.audits.filter((audit) => audit.org_id === org.id);
      const deactivatedAudits = orgAudits.filter((audit) => audit.action === 'org.deactivated');
      const notices = data.emails.filter((email) => email.org_id === org.id && email.kind === 'org_deactivated');
      const controlPlanes = data.controlPlanes.get(org.id) ?? [];
      const activePlanes = controlPlanes.filter((plane) => plane.status === 'active');
      const pendingChecks = data.dueItems.filter(
        (item) => item.kind === 'org_inactivity' && item.subject_id === org.id && item.status === 'pending',
      );

      // Warnings: one email per warning instant; an org deactivated for inactivity got both, at t* − 7 and 1 days.
      const warnings = data.emails.filter(
        (email) => email.org_id === org.id && String(email.kind).startsWith('inactivity_warning'),
      );
      const warningKeys = groupBy(warnings, (email) => `${email.kind} ${ms(email.created_at)} ${email.to}`);
      for (const [key, list] of warningKeys)
        if (list.length > 1) this.fail(`${label}: warning ${key} sent ${list.length} times`);

      if (row.status === 'deactivated') {
        figures.deactivated[row.deactivation_reason] = (figures.deactivated[row.deactivation_reason] ?? 0) + 1;
        if (!expectedDeactivation) {
          this.fail(
            `${label}: deactivated (${row.deactivation_reason}) at ${row.deactivated_at}; t* is ${iso(projected)}`,
          );
        } else {
          if (row.deactivation_reason !== expectedDeactivation.reason)
            this.fail(`${label}: deactivated for ${row.deactivation_reason}`);
          if (expectedDeactivation.at !== null && ms(row.deactivated_at) !== expectedDeactivation.at) {
            this.fail(`${label}: deactivated at ${row.deactivated_at}, t* is ${iso(expectedDeactivation.at)}`);
          }
        }
        const at = ms(row.deactivated_at);
        if (row.deactivation_reason === 'inactivity') {
          for (const days of [7, 1]) {
            const sent = warnings.filter(
              (email) => email.kind === `inactivity_warning_${days}d` && ms(email.created_at) === at - days * DAY,
            );
            // Owed once the org was free at that instant (a warning is never sent for an instant already past).
            const owed = at - days * DAY >= freeFrom ? 1 : 0;
            if (sent.length !== owed)
              this.fail(`${label}: ${sent.length} warnings ${days} days before its deactivation`);
          }
        }
        // Whole: every effect of spec 8 is there, in the one transaction.
        if (row.plan !== 'free') this.fail(`${label}: deactivated on plan ${row.plan}`);
        if (controlPlanes.length === 0 || activePlanes.length > 0) {
          this.fail(`${label}: deactivated with control planes ${JSON.stringify(controlPlanes.map((p) => p.status))}`);
        }
        if ((data.memberRoles.get(org.id) ?? 0) > 0)
          this.fail(`${label}: deactivated, ${data.memberRoles.get(org.id)} member roles left`);
        if ((data.teamMembers.get(org.id) ?? 0) > 0)
          this.fail(`${label}: deactivated, ${data.teamMembers.get(org.id)} team memberships left`);
        if ((data.systemAccountRoles.get(org.id) ?? 0) > 0)
          this.fail(`${label}: deactivated, system accounts keep roles`);
        if ((data.pendingInvitations.get(org.id) ?? 0) > 0)
          this.fail(`${label}: deactivated, invitations still pending`);
        if ((data.openSessions.get(org.id) ?? 0) > 0)
          this.fail(`${label}: deactivated, ${data.openSessions.get(org.id)} sessions open`);
        const locks = data.emailLocks.get(org.id) ?? [];
        if (locks.length !== 1 || locks[0] !== org.email)
          this.fail(`${label}: deactivated, email locks ${JSON.stringify(locks)}`);
        if (subscription && subscription.status === 'active')
          this.fail(`${label}: deactivated with an active subscription`);
        if (deactivatedAudits.length !== 1) this.fail(`${label}: ${deactivatedAudits.length} org.deactivated audits`);
        if (notices.length !== 1) this.fail(`${label}: ${notices.length} deactivation emails`);
        if (pendingChecks.length > 0)
          this.fail(`${label}: deactivated, ${pendingChecks.length} inactivity checks pending`);
        const lateAttempts = data.attempts.filter(
          (attempt) => attempt.org_id === org.id && ms(attempt.attempted_at) > at,
        );
        if (lateAttempts.length > 0)
          this.fail(`${label}: ${lateAttempts.length} payment attempts after its deactivation`);
        const openInvoices = data.invoices.filter(
          (invoice) => invoice.org_id === org.id && ['open', 'past_due'].includes(invoice.status),
        );
        if (openInvoices.length > 0)
          this.fail(`${label}: deactivated, invoices still ${openInvoices.map((i) => i.status)}`);
      } else {
        if (expectedDeactivation) {
          this.fail(
            `${label}: still active, expected deactivated (${expectedDeactivation.reason}) at ${expectedDeactivation.at && iso(expectedDeactivation.at)}`,
          );
        }
        if (activePlanes.length !== 1) this.fail(`${label}: active with ${activePlanes.length} active control planes`);
        if (!data.owners.has(org.id)) this.fail(`${label}: active, its owner lost the owner role`);
        if ((data.emailLocks.get(org.id) ?? []).length > 0) this.fail(`${label}: active with its email locked`);
        if (deactivatedAudits.length > 0 || notices.length > 0)
          this.fail(`${label}: active, yet audited or notified as deactivated`);
        if (isFreeNow) {
          if (row.plan !== 'free') this.fail(`${label}: plan ${row.plan} without an active subscription`);
          if (msOrNull(row.projected_deactivation_at) !== projected) {
            this.fail(`${label}: projected deactivation ${row.projected_deactivation_at}, t* is ${iso(projected)}`);
          }
          // A check is pending at or before the next milestone of t* (earlier ones, left from an earlier t*,
          // only look again and move on), so no warning and no deactivation can be missed.
          const next = [projected - 7 * DAY, projected - DAY, projected].find((at) => at > this.end) as number;
          const earliest = Math.min(...pendingChecks.map((item) => ms(item.due_at)));
          if (pendingChecks.length === 0 || earliest > next) {
            this.fail(
              `${label}: pending inactivity checks ${JSON.stringify(pendingChecks.map((item) => item.due_at))} for t* ${iso(projected)}`,
            );
          }
          for (const days of [7, 1]) {
            const due = projected - days * DAY;
            const sent = warnings.filter(
              (email) => email.kind === `inactivity_warning_${days}d` && ms(email.created_at) === due,
            );
            if (due <= this.end && due >= freeFrom && sent.length !== 1)
              this.fail(`${label}: ${sent.length} warnings ${days} days before t* ${iso(projected)}`);
          }
        } else {
          if (row.plan !== 'plus') this.fail(`${label}: plan ${row.plan} with an active Plus subscription`);
          if (row.projected_deactivation_at !== null) this.fail(`${label}: on Plus with a projected deactivation`);
          if (pendingChecks.length > 0) this.fail(`${label}: on Plus with inactivity checks pending`);
        }
      }
    }
  }
}

type Row = Record<string, any>;

interface Data {
  orgs: Map<string, Row>;
  reports: Row[];
  usageByMinute: Row[];
  latestByOrg: Map<string, number>;
  billed: Row[];
  unbilledOfEnded: Map<string, Row>;
  invoices: Row[];
  subscriptions: Row[];
  attempts: Row[];
  charges: Row[];
  dueItems: Row[];
  audits: Row[];
  emails: Row[];
  controlPlanes: Map<string, Row[]>;
  memberRoles: Map<string, number>;
  teamMembers: Map<string, number>;
  systemAccountRoles: Map<string, number>;
  pendingInvitations: Map<string, number>;
  openSessions: Map<string, number>;
  emailLocks: Map<string, string[]>;
  owners: Set<string>;
}

function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const list = groups.get(k);
    if (list) list.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}

const counts = (rows: Row[]) => new Map(rows.map((row) => [String(row.org_id), Number(row.count)]));

/** Reads what the checks need, bigints as text so both drivers answer alike. */
async function load(sql: Sql): Promise<Data> {
  const orgs = await sql(`select * from orgs`);
  const locks = await sql(`select org_id, email from email_locks`);
  const planes = await sql(`select org_id, status from control_planes`);
  return {
    orgs: new Map(orgs.map((row) => [String(row.id), row])),
    reports: await sql(`select org_id, runtime_id, report_id, records, requests::text as requests from usage_reports`),
    usageByMinute: await sql(
      `select org_id, minute, sum(requests)::text as requests from usage_minutes group by org_id, minute`,
    ),
    latestByOrg: new Map(
      (await sql(`select org_id, max(latest_at) as latest from usage_minutes group by org_id`)).map((row) => [
        String(row.org_id),
        ms(row.latest),
      ]),
    ),
    billed: await sql(
      `select invoice_id, subscription_id, sum(requests)::text as requests, max(minute) as latest_minute
       from usage_minutes where invoice_id <> '' group by invoice_id, subscription_id`,
    ),
    unbilledOfEnded: new Map(
      (
        await sql(
          `select u.subscription_id, sum(u.requests)::text as requests, min(u.minute) as earliest, max(u.latest_at) as latest
           from usage_minutes u join subscriptions s on s.org_id = u.org_id and s.id = u.subscription_id
           where u.invoice_id = '' and s.status = 'ended' and u.minute < s.ended_at group by u.subscription_id`,
        )
      ).map((row) => [String(row.subscription_id), row]),
    ),
    invoices: await sql(
      `select i.*, i.total::text as total,
         (select amount::text from invoice_lines l where l.org_id = i.org_id and l.invoice_id = i.id and l.kind = 'plan_fee') as fee_amount,
         (select quantity::text from invoice_lines l where l.org_id = i.org_id and l.invoice_id = i.id and l.kind = 'usage') as usage_quantity,
         (select amount::text from invoice_lines l where l.org_id = i.org_id and l.invoice_id = i.id and l.kind = 'usage') as usage_amount
       from invoices i`,
    ),
    subscriptions: await sql(`select * from subscriptions`),
    attempts: await sql(
      `select id, org_id, invoice_id, payment_method_id, amount::text as amount, status, attempted_at from payment_attempts`,
    ),
    charges: await sql(`select idempotency_key, amount::text as amount, status from test_provider_charges`),
    dueItems: await sql(`select kind, subject_id, due_at, status, attempts, last_error, processed_at from due_items`),
    audits: await sql(
      `select org_id, action, target_id, created_at, (after ->> 'attempt') as attempt from audit_events
       where action in ('invoice.calculated', 'invoice.paid', 'invoice.past_due', 'invoice.uncollectible',
                        'subscription.ended', 'org.deactivated')`,
    ),
    emails: await sql(`select "to", kind, org_id, subject, created_at from outbox_emails`),
    controlPlanes: groupBy(planes, (row) => String(row.org_id)),
    memberRoles: counts(await sql(`select org_id, count(*)::int as count from member_roles group by org_id`)),
    teamMembers: counts(await sql(`select org_id, count(*)::int as count from team_members group by org_id`)),
    systemAccountRoles: counts(
      await sql(
        `select org_id, count(*)::int as count from system_accounts where cardinality(roles) > 0 group by org_id`,
      ),
    ),
    pendingInvitations: counts(
      await sql(`select org_id, count(*)::int as count from invitations where status = 'pending' group by org_id`),
    ),
    openSessions: counts(
      await sql(
        `select org_id, count(*)::int as count from sessions where ended_at is null and org_id is not null group by org_id`,
      ),
    ),
    emailLocks: new Map(
      [...groupBy(locks, (row) => String(row.org_id))].map(([orgId, rows]) => [
        orgId,
        rows.map((row) => String(row.email)),
      ]),
    ),
    owners: new Set(
      (
        await sql(
          `select r.org_id from member_roles r join orgs o on o.id = r.org_id and o.owner_user_id = r.user_id where r.role = 'owner'`,
        )
      ).map((row) => String(row.org_id)),
    ),
  };
}
