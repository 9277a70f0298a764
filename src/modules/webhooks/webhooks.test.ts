import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type AuditedChange,
  checkEndpointUrl,
  checkEventTypes,
  eventPayload,
  eventsOf,
  eventTypeOf,
  isSubscribed,
  nextAttemptAt,
  RETRY_WINDOW_MS,
  signatureHeader,
  truncated,
  verifySignature,
} from './webhooks.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const SECRET = 'whsec_test0123456789';
const BODY = '{"id":"evt_1","type":"invoice.paid"}';

function change(overrides: Partial<AuditedChange> = {}): AuditedChange {
  return {
    id: 'aud_1',
    orgId: 'org_1',
    actorType: 'system',
    actorId: null,
    action: 'invoice.calculated',
    targetType: 'invoice',
    targetId: 'inv_1',
    before: null,
    after: { number: 'TL-000001', total: '10000', period: 1 },
    reason: null,
    createdAt: new Date('2027-01-29T00:00:00.000Z'),
    ...overrides,
  };
}

describe('signature', () => {
  it('is t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">, as a receiver recomputes it with node:crypto', () => {
    const header = signatureHeader([SECRET], 1_800_000_000, BODY);
    const expected = createHmac('sha256', SECRET).update(`1800000000.${BODY}`).digest('hex');
    expect(header).toBe(`t=1800000000,v1=${expected}`);
    expect(verifySignature(header, BODY, SECRET)).toBe(true);
  });

  it('fails for a tampered body, another secret, another timestamp or a malformed header', () => {
    const header = signatureHeader([SECRET], 1_800_000_000, BODY);
    expect(verifySignature(header, BODY.replace('paid', 'void'), SECRET)).toBe(false);
    expect(verifySignature(header, BODY, 'whsec_other')).toBe(false);
    expect(verifySignature(header.replace('t=1800000000', 't=1800000001'), BODY, SECRET)).toBe(false);
    expect(verifySignature('', BODY, SECRET)).toBe(false);
    expect(verifySignature('t=1800000000', BODY, SECRET)).toBe(false);
    expect(verifySignature(`v1=${'0'.repeat(64)}`, BODY, SECRET)).toBe(false);
  });

  it('carries one v1 per secret in force, so both the old and the new secret verify during an overlap', () => {
    const header = signatureHeader(['whsec_new', 'whsec_old'], 1_800_000_000, BODY);
    expect(header.split(',').filter((part) => part.startsWith('v1='))).toHaveLength(2);
    expect(verifySignature(header, BODY, 'whsec_new')).toBe(true);
    expect(verifySignature(header, BODY, 'whsec_old')).toBe(true);
    expect(verifySignature(header, BODY, 'whsec_other')).toBe(false);
  });

  it('refuses a timestamp outside the tolerance when the receiver checks one', () => {
    const header = signatureHeader([SECRET], 1_800_000_000, BODY);
    const near = new Date(1_800_000_000_000 + 299_000);
    const far = new Date(1_800_000_000_000 + 301_000);
    expect(verifySignature(header, BODY, SECRET, { now: near, toleranceSeconds: 300 })).toBe(true);
    expect(verifySignature(header, BODY, SECRET, { now: far, toleranceSeconds: 300 })).toBe(false);
  });
});

describe('retry schedule', () => {
  const eventAt = new Date('2027-01-01T00:00:00.000Z');
  const retryUntil = new Date(eventAt.getTime() + RETRY_WINDOW_MS);

  /** Every attempt instant when each attempt is made on time and fails. */
  function attemptsWhenEveryOneFails(): number[] {
    const offsets: number[] = [];
    let at: Date | null = eventAt;
    let n = 0;
    while (at) {
      offsets.push(at.getTime() - eventAt.getTime());
      n++;
      at = nextAttemptAt(n, at, retryUntil);
    }
    return offsets;
  }

  it('waits 1 min, 5 min, 30 min, 2 h, 5 h, 10 h, then 12 h, and tries a last time at 3 days', () => {
    const offsets = attemptsWhenEveryOneFails();
    const waits = offsets.slice(1).map((offset, i) => offset - offsets[i]);
    expect(waits.slice(0, 6)).toEqual([MINUTE, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR]);
    expect(waits.slice(6, -1).every((wait) => wait === 12 * HOUR)).toBe(true);
    expect(offsets[offsets.length - 1]).toBe(72 * HOUR);
    expect(offsets).toHaveLength(12);
  });

  it('gives up after an attempt at or after the end of the window', () => {
    expect(nextAttemptAt(12, retryUntil, retryUntil)).toBeNull();
    expect(nextAttemptAt(1, new Date(retryUntil.getTime() + 1), retryUntil)).toBeNull();
    expect(nextAttemptAt(3, new Date(retryUntil.getTime() - MINUTE), retryUntil)).toEqual(retryUntil);
  });
});

describe('events from audited changes', () => {
  it('maps audit actions to public types, and leaves the others out', () => {
    expect(eventTypeOf('invoice.calculated')).toBe('invoice.created');
    expect(eventTypeOf('invoice.marked_paid')).toBe('invoice.paid');
    expect(eventTypeOf('invoice.past_due')).toBe('invoice.payment_failed');
    expect(eventTypeOf('org.deactivation_warned')).toBe('org.deactivation_upcoming');
    expect(eventTypeOf('auth.login')).toBeUndefined();
    expect(eventTypeOf('toString')).toBeUndefined();
    let n = 0;
    const events = eventsOf([change(), change({ action: 'auth.login' }), change({ action: 'invoice.paid' })], () => {
      n++;
      return `evt_${n}`;
    });
    expect(events.map((event) => [event.id, event.type])).toEqual([
      ['evt_1', 'invoice.created'],
      ['evt_2', 'invoice.paid'],
    ]);
    expect(JSON.parse(events[0].body)).toEqual(eventPayload('evt_1', 'invoice.created', change()));
  });

  it('builds Stripe-shaped payloads without internal snapshots', () => {
    const payload = eventPayload(
      'evt_9',
      'org.deactivated',
      change({
        action: 'org.deactivated',
        actorType: 'staff',
        actorId: 'usr_1',
        targetType: 'org',
        targetId: 'org_1',
        before: { status: 'active', plan: 'plus', access: { members: [] } },
        after: { status: 'deactivated', plan: 'free' },
        reason: 'abuse',
      }),
    );
    expect(payload).toEqual({
      id: 'evt_9',
      type: 'org.deactivated',
      created_at: '2027-01-29T00:00:00.000Z',
      org_id: 'org_1',
      data: {
        object: { object: 'org', id: 'org_1', status: 'deactivated', plan: 'free' },
        previous_attributes: { status: 'active', plan: 'plus' },
        actor: { type: 'staff', id: 'usr_1' },
        reason: 'abuse',
      },
    });
  });
});

describe('endpoint settings', () => {
  it('takes http(s) URLs with a host, loopback included', () => {
    expect(checkEndpointUrl('https://hooks.example.com/tierline?x=1')).toBe('https://hooks.example.com/tierline?x=1');
    expect(checkEndpointUrl('http://127.0.0.1:8080/in')).toBe('http://127.0.0.1:8080/in');
  });

  it('refuses other schemes, credentials, fragments, spaces and junk', () => {
    for (const url of [
      'ftp://example.com/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'https://user:pass@example.com/',
      'https://example.com/#frag',
      ' https://example.com/',
      'https://exa mple.com/',
      'not a url',
      '/relative',
      `https://example.com/${'a'.repeat(2100)}`,
    ]) {
      expect(() => checkEndpointUrl(url), url).toThrow(expect.objectContaining({ field: 'url', status: 400 }));
    }
  });

  it('subscribes to every type by default or with "*", else to known types only', () => {
    expect(checkEventTypes(undefined)).toEqual(['*']);
    expect(checkEventTypes(['invoice.paid', '*'])).toEqual(['*']);
    expect(checkEventTypes(['invoice.paid', 'org.created', 'invoice.paid'])).toEqual(['org.created', 'invoice.paid']);
    expect(() => checkEventTypes([])).toThrow(expect.objectContaining({ field: 'events' }));
    expect(() => checkEventTypes(['invoice.exploded'])).toThrow(expect.objectContaining({ field: 'events' }));
    expect(isSubscribed(['*'], 'org.created')).toBe(true);
    expect(isSubscribed(['invoice.paid'], 'org.created')).toBe(false);
  });

  it('keeps log text short and storable', () => {
    expect(truncated('a'.repeat(2000))).toHaveLength(1025);
    expect(truncated('nul\u0000 and lone \ud800 surrogate')).toBe('nul\ufffd and lone \ufffd surrogate');
    expect(truncated('😀😀', 1)).toBe('\ufffd…');
  });
});
