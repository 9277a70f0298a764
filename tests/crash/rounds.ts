import type { Random } from './random.ts';
import { ADMIN, type Answer, type CrashServer, type KillRecord } from './server.ts';
import { DAY, MINUTE, type Org, type Report, type Sizes, type World } from './world.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const iso = (ms: number) => new Date(ms).toISOString();

/** What the due-work kinds are, as the report names them. */
export function phaseOf(kind: string): string {
  if (kind === 'invoice_calculation') return 'billing: calculation';
  if (kind === 'invoice_collection' || kind === 'invoice_retry') return 'billing: collection';
  if (kind === 'org_inactivity') return 'sweep';
  return kind;
}

export interface RoundLog {
  round: number;
  from: string;
  to: string;
  reports: number;
  advances: number;
  processed: number;
  kills: number;
  ms: number;
}

/** Anything the rounds saw that must not happen (a 5xx, a failed due item, an unexpected answer). */
export interface Problem {
  round: number;
  what: string;
}

/**
 * Drives the rounds: runtimes report usage, the clock is advanced across billing and inactivity
 * instants, some admins downgrade and staff deactivate, all in parallel, while the server is killed at
 * a random moment of each round (and sometimes again while it recovers) and restarted.
 */
export class Rounds {
  readonly problems: Problem[] = [];
  readonly logs: RoundLog[] = [];
  clock: number;
  reportsSent = 0;
  reportSends = 0;
  resends = 0;
  duplicatesFound = 0;
  tryAgain = 0;
  advanceCalls = 0;
  processed = 0;
  private trafficEstimateMs = 400;
  private advanceEstimateMs = 200;
  private inFlightReports = 0;
  private advanceInFlight = false;
  private advanceStarted: (() => void) | undefined;
  private inFlightActions = 0;
  private staffCookie: string | undefined;
  private readonly server: CrashServer;
  private readonly world: World;
  private readonly random: Random;
  private readonly sizes: Sizes;

  constructor(server: CrashServer, world: World, random: Random, sizes: Sizes) {
    this.server = server;
    this.world = world;
    this.random = random;
    this.sizes = sizes;
    this.clock = world.seededAt;
  }

  private problem(round: number, what: string) {
    this.problems.push({ round, what });
  }

  /** An unexpected answer, with the cause the server logged when it is a 5xx. */
  private describe(answer: Answer): string {
    const text = `${answer.status} ${JSON.stringify(answer.body)}`;
    return answer.status >= 500 ? `${text} (server log: ${this.server.latestErrorCause()})` : text;
  }

  /** A staff session (staff logins are not logins into an org: they move no t*). */
  async staff(): Promise<string> {
    if (this.staffCookie) {
      const me = await this.server.call('GET', '/v1/me', { cookie: this.staffCookie });
      if (me.status === 200 && me.body.staff_roles) return this.staffCookie;
    }
    const login = await this.server.call('POST', '/v1/auth/login', { body: ADMIN });
    if (login.status !== 200) throw new Error(`staff login: ${login.status} ${JSON.stringify(login.body)}`);
    this.staffCookie = login.cookie as string;
    return this.staffCookie;
  }

  /** The reports of one round: every reporting org's runtimes, each a few, timestamps near the clock. */
  private makeReports(round: number, random: Random): Report[][] {
    const from = this.clock;
    const queues: Report[][] = [];
    for (const org of this.world.orgs) {
      if (!isReportingIn(org, round)) continue;
      let isFirst = true;
      for (const runtime of org.runtimes) {
        const queue: Report[] = [];
        const count = random.int(this.sizes.reportsPerRound[0], this.sizes.reportsPerRound[1]);
        for (let n = 0; n < count; n++) {
          const records = random.int(this.sizes.recordsPerReport[0], this.sizes.recordsPerReport[1]);
          const usage: Report['usage'] = [];
          let latest = 0;
          for (let r = 0; r < records; r++) {
            // Mostly now (the clock stands at `from` until the advance moves it; up to 4 minutes ahead is
            // allowed), sometimes late: up to 3 days old. The first record of an org's round is now, so a
            // reporting org always has traffic of this round.
            const isLate = !isFirst && random.chance(0.25);
            isFirst = false;
            const at = isLate
              ? Math.max(this.world.start, from - random.int(1, 3 * 24 * 60) * MINUTE)
              : from + random.int(0, 4 * 60_000);
            latest = Math.max(latest, at);
            usage.push({
              timestamp: iso(at),
              requests: random.int(this.sizes.requestsPerRecord[0], this.sizes.requestsPerRecord[1]),
            });
          }
          queue.push({
            runtime,
            reportId: `${runtime.prefix}-${runtime.next++}`,
            usage,
            requests: usage.reduce((sum, record) => sum + BigInt(record.requests), 0n),
            latestEventAt: latest,
            round,
            outcome: 'unsent',
            sends: 0,
            wasInterrupted: false,
          });
        }
        queues.push(queue);
      }
    }
    return queues;
  }

  /** Sends a runtime's reports in order; a report without an answer is sent again, same id, after the restart. */
  private async sendQueue(round: number, queue: Report[], random: Random) {
    for (const report of queue) {
      await sleep(random.int(0, 12));
      this.reportsSent++;
      this.world.reports.push(report);
      let serverErrors = 0;
      for (;;) {
        this.inFlightReports++;
        let answer: Answer;
        let resends: number;
        try {
          ({ answer, resends } = await this.server.callUntilAnswered('POST', '/v1/runtime/usage', {
            token: report.runtime.token,
            body: { report_id: report.reportId, usage: report.usage },
          }));
        } finally {
          this.inFlightReports--;
        }
        report.sends += 1 + resends;
        this.reportSends += 1 + resends;
        this.resends += resends;
        if (resends > 0) report.wasInterrupted = true;
        if (answer.status === 200) {
          report.outcome = 'acked';
          if (answer.body.duplicate) this.duplicatesFound++;
          if (answer.body.duplicate && !report.wasInterrupted) {
            this.problem(round, `report ${report.reportId} was sent once and answered as a duplicate`);
          }
          if (!answer.body.duplicate && BigInt(answer.body.requests) !== report.requests) {
            this.problem(
              round,
              `report ${report.reportId}: ${answer.body.requests} requests counted, sent ${report.requests}`,
            );
          }
          break;
        }
        if (answer.status === 403 && answer.body?.error?.code === 'control_plane_decommissioned') {
          report.outcome = 'refused';
          break;
        }
        if (answer.status === 409 && answer.body?.error?.code === 'try_again') {
          this.tryAgain++;
          continue;
        }
        if (answer.status >= 500) await sleep(50);
        this.problem(round, `report ${report.reportId}: ${this.describe(answer)}`);
        // The reference runtime keeps a report it got no verdict on (5xx) and sends it again later.
        if (answer.status >= 500 && ++serverErrors < 5) {
          report.wasInterrupted = true;
          continue;
        }
        break;
      }
    }
  }

  /** Advances the clock to each target in turn; an advance without an answer is sent again after the restart. */
  private async advance(round: number, targets: number[]) {
    let processed = 0;
    for (const target of targets) {
      this.advanceInFlight = true;
      this.advanceStarted?.();
      let answer: Answer;
      let resends: number;
      try {
        ({ answer, resends } = await this.server.callUntilAnswered(
          'POST',
          '/v1/test-clock/advance',
          { body: { to: iso(target) } },
          async () => {
            // Sent again after a restart: tell a kill that waits for the repeated advance.
            this.advanceStarted?.();
            return undefined;
          },
        ));
      } finally {
        this.advanceInFlight = false;
      }
      this.advanceCalls += 1 + resends;
      if (answer.status !== 200) {
        this.problem(round, `advance to ${iso(target)}: ${answer.status} ${JSON.stringify(answer.body)}`);
        continue;
      }
      if (answer.body.failed !== 0)
        this.problem(round, `advance to ${iso(target)}: ${answer.body.failed} due items failed`);
      if (answer.body.now !== iso(target))
        this.problem(round, `advance to ${iso(target)} left the clock at ${answer.body.now}`);
      processed += answer.body.processed;
    }
    return processed;
  }

  /** The admin of a plus_downgrade org cancels the plan; sent again after a restart only if it did not happen. */
  private async downgrade(round: number, org: Org) {
    const isStillPlus = async () => {
      const billing = await this.server.call('GET', `/v1/orgs/${org.id}/billing`, { token: org.token });
      return billing.body?.subscription?.status === 'active' ? undefined : billing;
    };
    for (let attempt = 0; attempt < 5; attempt++) {
      const { answer } = await this.server.callUntilAnswered(
        'DELETE',
        `/v1/orgs/${org.id}/subscription`,
        { token: org.token },
        isStillPlus,
      );
      if (answer.status === 200) {
        if (answer.body.subscription) org.actionDoneAt = Date.parse(answer.body.subscription.ended_at);
        return;
      }
      if (answer.status >= 500) await sleep(50);
      this.problem(round, `downgrade of ${org.id}: ${this.describe(answer)}`);
      if (answer.status < 500) return;
      // A 5xx is no verdict: the admin tries again if the plan is still Plus.
      const settled = await this.server.callUntilAnswered('GET', `/v1/orgs/${org.id}/billing`, { token: org.token });
      if (settled.answer.body?.subscription?.status !== 'active') return;
    }
  }

  /** Staff deactivate a plus_deactivate org; sent again after a restart only if it did not happen. */
  private async deactivate(round: number, org: Org) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const { answer } = await this.server.callUntilAnswered(
        'POST',
        `/v1/admin/orgs/${org.id}/deactivate`,
        { body: { reason: 'support_request' }, cookie: () => this.staff() },
        async () => {
          const detail = await this.server.call('GET', `/v1/admin/orgs/${org.id}`, { cookie: await this.staff() });
          return detail.body?.org?.status === 'deactivated' ? detail : undefined;
        },
      );
      if (answer.status === 200) return;
      // The staff session ended: the clock, moving meanwhile, passed its idle limit. Log in again.
      if (answer.status === 401) {
        this.staffCookie = undefined;
        continue;
      }
      if (answer.status >= 500) await sleep(50);
      this.problem(round, `deactivation of ${org.id}: ${this.describe(answer)}`);
      if (answer.status < 500) return;
    }
  }

  /**
   * Where a kill landed: on PostgreSQL, looked up while the server is down, so what the killed
   * process left is what is read (the earliest due item still pending is the one it was doing or
   * about to do); on the embedded database, only whether the advance was under way.
   */
  private async classify(entry: KillRecord, target: number) {
    const parts: string[] = [];
    if (entry.inFlight.advance) {
      if (this.server.hasLiveSql) {
        const [first] = await this.server.sql(
          `select kind from due_items where status = 'pending' and due_at <= $1 order by due_at, id limit 1`,
          [iso(target)],
        );
        parts.push(first ? phaseOf(String(first.kind)) : 'advance (after its due work)');
      } else {
        parts.push('advance');
      }
    }
    if (entry.inFlight.reports > 0) parts.push('ingestion');
    if (entry.inFlight.actions > 0) parts.push('plan change or deactivation');
    entry.landed = parts.length ? parts.join(' + ') : 'between requests';
  }

  private async kill(round: number, target: number) {
    return this.server.killAndRestart(
      {
        round,
        inFlight: { reports: this.inFlightReports, advance: this.advanceInFlight, actions: this.inFlightActions },
      },
      (entry) => this.classify(entry, target),
    );
  }

  /**
   * The killer of one round. `due` mode aims at the due work: on PostgreSQL it picks a kind of work
   * pending up to the target (billing or the sweep, equally likely), then one of its batches (an
   * instant), and kills when the runner reaches it, so the kill lands inside that transaction or just
   * around it; on the embedded database, after a random share of the last advance's duration. `traffic`
   * mode kills after a random delay from the round's start. Sometimes a second kill hits the recovery.
   */
  private async killer(round: number, random: Random, target: number, roundDone: Promise<void>) {
    let isDone = false;
    void roundDone.then(() => {
      isDone = true;
    });
    const batches = this.server.hasLiveSql ? await this.pendingBatches(target) : [];
    const kinds = [...new Set(batches.map((batch) => phaseOf(batch.kind)))];
    const hasDueWork = this.server.hasLiveSql ? batches.length > 0 : true;
    const mode = hasDueWork && random.chance(this.server.hasLiveSql ? 0.65 : 0.5) ? 'due' : 'traffic';
    const kind = kinds.length ? random.pick(kinds) : undefined;
    const ofKind = batches.filter((batch) => phaseOf(batch.kind) === kind);
    const aim = ofKind.length ? random.pick(ofKind) : undefined;
    const delay = random.next();
    const isSecondKill = random.chance(0.3);
    const secondDelay = random.int(0, 60);
    let kills = 0;

    if (mode === 'due') {
      await Promise.race([this.nextAdvanceStart(), roundDone]);
      if (!isDone && aim) {
        // Until everything due before the aimed batch is done: the runner is then on it.
        for (;;) {
          const [row] = await this.server.sql(
            `select count(*)::int as count from due_items where status = 'pending' and due_at < $1`,
            [iso(aim.dueAt)],
          );
          if (Number(row.count) === 0 || !this.advanceInFlight || isDone) break;
          await sleep(1);
        }
        await sleep(random.int(0, 3));
      } else if (!isDone) {
        await sleep(delay * this.advanceEstimateMs);
      }
    } else {
      await sleep(delay * 0.9 * this.trafficEstimateMs);
    }
    // Even when the round finished first, the kill happens: a kill between requests must lose nothing either.
    await this.kill(round, target);
    kills++;
    if (isSecondKill && !isDone) {
      // Again while the restarted server catches up: the repeated advance, or the resent reports.
      if (this.advanceInFlight || this.inFlightReports === 0) {
        await Promise.race([this.nextAdvanceStart(), roundDone, sleep(500)]);
      }
      await sleep(secondDelay);
      if (!isDone) {
        await this.kill(round, target);
        kills++;
      }
    }
    return kills;
  }

  /** The batches of due work pending up to `upTo`: one per kind and instant. */
  private async pendingBatches(upTo: number): Promise<Array<{ kind: string; dueAt: number }>> {
    const rows = await this.server.sql(
      `select kind, due_at from due_items where status = 'pending' and due_at <= $1 group by kind, due_at`,
      [iso(upTo)],
    );
    return rows
      .map((row) => ({ kind: String(row.kind), dueAt: new Date(row.due_at).getTime() }))
      .sort((a, b) => a.dueAt - b.dueAt || a.kind.localeCompare(b.kind));
  }

  private nextAdvanceStart(): Promise<void> {
    if (this.advanceInFlight) return Promise.resolve();
    return new Promise((resolve) => {
      this.advanceStarted = () => {
        this.advanceStarted = undefined;
        resolve();
      };
    });
  }

  /** One round: traffic, the advance to `from + step`, actions and a kill, all at once; then the clock is checked. */
  async run(round: number, step: number): Promise<void> {
    const random = this.random.fork(`round-${round}`);
    const started = performance.now();
    const from = this.clock;
    const to = from + step;
    const targets = random.chance(0.5) ? [from + Math.floor(random.between(0.2, 0.8) * step), to] : [to];
    const queues = this.makeReports(round, random);
    const advanceDelay = random.next() * 0.5 * this.trafficEstimateMs;
    const actions = this.world.orgs.filter((org) => org.actionRound === round);
    const actionDelays = actions.map(() => random.next() * this.trafficEstimateMs);
    const senderRandoms = queues.map((_, index) => random.fork(`queue-${index}`));
    const killerRandom = random.fork('killer');
    const killsBefore = this.server.kills.length;

    let trafficMs = 0;
    let advanceMs = 0;
    let processed = 0;
    const downBefore = this.server.downMs;
    // How long the traffic takes when nothing stops it: the next round's kill delays are drawn within it.
    const traffic = Promise.all(queues.map((queue, index) => this.sendQueue(round, queue, senderRandoms[index]))).then(
      () => {
        trafficMs = performance.now() - started - (this.server.downMs - downBefore);
      },
    );
    const clockWork = (async () => {
      await sleep(advanceDelay);
      const advanceStart = performance.now();
      const downAtStart = this.server.downMs;
      processed = await this.advance(round, targets);
      advanceMs = performance.now() - advanceStart - (this.server.downMs - downAtStart);
    })();
    const actionWork = Promise.all(
      actions.map(async (org, index) => {
        await sleep(actionDelays[index]);
        this.inFlightActions++;
        try {
          if (org.group === 'plus_downgrade') await this.downgrade(round, org);
          else await this.deactivate(round, org);
        } finally {
          this.inFlightActions--;
        }
      }),
    );
    const work = Promise.all([traffic, clockWork, actionWork]).then(() => undefined);
    const [kills] = await Promise.all([this.killer(round, killerRandom, to, work), work]);

    const clock = await this.server.call('GET', '/v1/test-clock');
    if (clock.body.now !== iso(to))
      this.problem(round, `after the round the clock is at ${clock.body.now}, not ${iso(to)}`);
    this.clock = to;
    this.processed += processed;
    if (trafficMs > 0) this.trafficEstimateMs = Math.max(100, Math.min(5000, trafficMs));
    if (advanceMs > 0) this.advanceEstimateMs = Math.max(50, Math.min(5000, advanceMs));
    this.logs.push({
      round,
      from: iso(from),
      to: iso(to),
      reports: queues.reduce((sum, queue) => sum + queue.length, 0),
      advances: targets.length,
      processed,
      kills,
      ms: Math.round(performance.now() - started),
    });
    if (this.server.kills.length - killsBefore !== kills) throw new Error('kill count mismatch');
  }
}

/** Whether the org's runtimes report in this round. */
export function isReportingIn(org: Org, round: number): boolean {
  if (org.runtimes.length === 0) return false;
  if (org.group === 'free_fading') return round <= (org.lastReportingRound as number);
  // A deactivated org's runtimes are refused: they stop after the round of the deactivation.
  if (org.group === 'plus_deactivate') return round <= (org.actionRound as number);
  return true;
}

/** The round lengths: about 150 days in all for 20 rounds, never more than 15 days (see the inactivity rule). */
export function roundSteps(rounds: number, random: Random): number[] {
  const base = Math.min(15 * DAY, Math.max(5 * DAY, (150 * DAY) / Math.max(rounds, 1)));
  return Array.from({ length: rounds }, () =>
    Math.min(15 * DAY, Math.floor((base * random.between(0.75, 1.25)) / 1000) * 1000 + random.int(0, 999)),
  );
}
