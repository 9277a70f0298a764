import { describe, expect, it } from 'vitest';
import { hashSecret, newId, newSecret } from './ids.ts';

describe('newId', () => {
  it.each(['org', 'usr', 'sub', 'inv', 'pm', 'rt'])('starts with %s_ and 20 letters or digits', (prefix) => {
    expect(newId(prefix)).toMatch(new RegExp(`^${prefix}_[0-9A-Za-z]{20}$`));
  });

  it('never repeats over 10,000 ids', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newId('org')));
    expect(ids.size).toBe(10_000);
  });

  it('uses the whole alphabet, not just a few characters', () => {
    const seen = new Set(
      Array.from({ length: 1_000 }, () => newId('x').slice(2))
        .join('')
        .split(''),
    );
    expect(seen.size).toBe(62);
  });
});

describe('newSecret', () => {
  it('starts with its prefix and carries 40 letters or digits', () => {
    expect(newSecret('tl_rt')).toMatch(/^tl_rt_[0-9A-Za-z]{40}$/);
  });

  it('never repeats over 10,000 secrets', () => {
    const secrets = new Set(Array.from({ length: 10_000 }, () => newSecret('sec')));
    expect(secrets.size).toBe(10_000);
  });
});

describe('hashSecret', () => {
  it('is SHA-256 in lowercase hex', () => {
    expect(hashSecret('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hashSecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('is stable for one secret and different for another', () => {
    const secret = newSecret('tl');
    expect(hashSecret(secret)).toBe(hashSecret(secret));
    expect(hashSecret(secret)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashSecret(secret)).not.toBe(hashSecret(`${secret}x`));
  });
});
