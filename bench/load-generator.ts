/**
 * The API benchmark's fixed-rate load, in a process of its own (forked by bench/api.ts, one per
 * server, for all its phases): a small heap, so that its own garbage collections do not land in the
 * times it measures (the benchmark's main process holds the seeded orgs and collects for tens of ms
 * at a time); kept from the warm-up to the timed phase, so that one runs on warmed-up code and open
 * connections.
 *
 * Open loop: request i is sent at start + i / rate whatever the earlier answers do, so slow answers
 * do not lower the offered load (requests wait for a free connection on the client if need be, and
 * that wait counts). Times run from sending to the end of the answer body; how late each request was
 * sent against its planned instant is reported apart (the send lag).
 */
import { percentile, request } from './harness.ts';

export interface LoadPlan {
  base: string;
  /** Path and authorization of each request, used in turn. */
  targets: Array<{ path: string; authorization: string }>;
  rate: number;
  seconds: number;
  /** How long to wait for the last answers after the last request was sent, in s. */
  drainSeconds: number;
}

export interface LoadResult {
  requests: number;
  p50: number;
  p99: number;
  max: number;
  lagP99: number;
  /** The first answers that were not 200, at most five, and how many there were. */
  failures: string[];
  failureCount: number;
}

export type LoadMessage = { elapsedSeconds: number } | { result: LoadResult } | { error: string };

async function run(plan: LoadPlan, report: (message: LoadMessage) => void): Promise<LoadResult> {
  const base = new URL(plan.base);
  const total = Math.round(plan.rate * plan.seconds);
  const latencies = new Float64Array(total);
  const lags = new Float64Array(total);
  const failures: string[] = [];
  let failureCount = 0;
  let sent = 0;
  let done = 0;
  let reported = 0;
  const start = performance.now() + 20;
  const fail = (text: string) => {
    failureCount++;
    if (failures.length < 5) failures.push(text);
  };
  await new Promise<void>((resolve, reject) => {
    let guard: NodeJS.Timeout | undefined;
    const finish = () => {
      if (++done !== total) return;
      clearTimeout(guard);
      resolve();
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + (sent * 1000) / plan.rate <= now) {
        const index = sent++;
        const target = plan.targets[index % plan.targets.length];
        const sentAt = performance.now();
        lags[index] = sentAt - (start + (index * 1000) / plan.rate);
        request(base, 'GET', target.path, { headers: { authorization: target.authorization } }).then(
          (answer) => {
            latencies[index] = performance.now() - sentAt;
            if (answer.status !== 200) fail(`${answer.status} ${answer.body.slice(0, 200)}`);
            finish();
          },
          (error: Error) => {
            latencies[index] = performance.now() - sentAt;
            fail(error.message);
            finish();
          },
        );
      }
      const elapsed = Math.floor((now - start) / 1000);
      if (elapsed > reported) {
        reported = elapsed;
        report({ elapsedSeconds: elapsed });
      }
      if (sent < total) setTimeout(tick, 1);
      else if (done < total) {
        // A server far behind the rate: the run stops rather than wait on it without end.
        guard = setTimeout(
          () =>
            reject(
              new Error(
                `${total - done} of ${total} requests unanswered ${plan.drainSeconds} s after the last was sent`,
              ),
            ),
          plan.drainSeconds * 1000,
        );
      }
    };
    tick();
  });
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  const lagSorted = Array.from(lags).sort((a, b) => a - b);
  return {
    requests: total,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
    lagP99: percentile(lagSorted, 99),
    failures,
    failureCount,
  };
}

if (process.send) {
  const send = (message: LoadMessage) => process.send?.(message);
  // One plan at a time, as many as the benchmark sends; the process ends when the benchmark lets go.
  process.on('message', (plan: LoadPlan) => {
    run(plan, send).then(
      (result) => send({ result }),
      (error: Error) => send({ error: error.message }),
    );
  });
  process.once('disconnect', () => process.exit(0));
}
