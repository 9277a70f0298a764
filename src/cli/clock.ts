import { parseInstant } from '../kernel/calendar.ts';

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Reads a span such as `90m`, `12h` or `31d` into milliseconds. */
export function parseSpan(text: string): number | undefined {
  const match = /^(\d{1,6})([mhd])$/.exec(text);
  return match ? Number(match[1]) * UNITS[match[2]] : undefined;
}

/**
 * `tierline clock advance`: moves a running server's test clock (spec 10) to an instant or by a span,
 * through its API, and says how much due work it did on the way.
 */
export async function advanceClockCommand(input: { url: string; to?: string; by?: string }): Promise<void> {
  const base = input.url.replace(/\/+$/, '');
  let target: Date | undefined;
  if (input.to) {
    target = parseInstant(input.to);
    if (!target) throw new Error(`--to must be an RFC 3339 instant, got "${input.to}"`);
  } else if (input.by) {
    const span = parseSpan(input.by);
    if (span === undefined)
      throw new Error(`--by must be a number of minutes, hours or days (90m, 12h, 31d), got "${input.by}"`);
    const answer = await fetch(`${base}/v1/test-clock`);
    if (answer.status === 404) throw new Error(`${base} does not run on the test clock (TIERLINE_TEST_CLOCK=1)`);
    const clock = (await answer.json()) as { now: string };
    target = new Date(new Date(clock.now).getTime() + span);
  } else {
    throw new Error('give --to INSTANT or --by SPAN');
  }
  process.stderr.write(`advancing the test clock to ${target.toISOString()}…\n`);
  const answer = await fetch(`${base}/v1/test-clock/advance`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ to: target.toISOString() }),
  });
  const body = (await answer.json().catch(() => ({}))) as {
    now?: string;
    processed?: number;
    failed?: number;
    error?: { message: string };
  };
  if (answer.status === 404) throw new Error(`${base} does not run on the test clock (TIERLINE_TEST_CLOCK=1)`);
  if (!answer.ok) throw new Error(body.error?.message ?? `the server answered ${answer.status}`);
  console.log(`The test clock is at ${body.now}: ${body.processed} item(s) of due work done, ${body.failed} failed.`);
}
