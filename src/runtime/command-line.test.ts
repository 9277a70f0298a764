import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from './command-line.ts';

const required = ['--control-plane', 'http://127.0.0.1:8080', '--token', 'rt_secret', '--listen', '0'];

describe('parseCommandLine', () => {
  it('reads the required arguments and fills in the defaults', () => {
    expect(parseCommandLine(required)).toEqual({
      controlPlaneUrl: new URL('http://127.0.0.1:8080'),
      token: 'rt_secret',
      port: 0,
      host: undefined,
      spoolDir: resolve('tierline-runtime-spool'),
      syncIntervalMs: 5_000,
      reportIntervalMs: 10_000,
    });
  });

  it('reads the optional arguments and HOST:PORT', () => {
    const options = parseCommandLine([
      ...required.slice(0, 4),
      '--listen',
      '127.0.0.1:8443',
      '--spool-dir',
      '/var/spool/tierline',
      '--sync-interval-ms',
      '200',
      '--report-interval-ms=250',
    ]);
    expect(options).toMatchObject({
      host: '127.0.0.1',
      port: 8443,
      spoolDir: '/var/spool/tierline',
      syncIntervalMs: 200,
      reportIntervalMs: 250,
    });
    expect(parseCommandLine([...required.slice(0, 4), '--listen', '[::1]:80'])).toMatchObject({ host: '::1' });
  });

  it('names the argument at fault', () => {
    expect(() => parseCommandLine(required.slice(2))).toThrow(/--control-plane is required/);
    expect(() => parseCommandLine([...required.slice(0, 2), '--listen', '0'])).toThrow(/--token is required/);
    expect(() => parseCommandLine(required.slice(0, 4))).toThrow(/--listen is required/);
    expect(() => parseCommandLine([...required, '--listen', 'abc'])).toThrow(/--listen/);
    expect(() => parseCommandLine([...required, '--listen', '70000'])).toThrow(/--listen/);
    expect(() => parseCommandLine([...required, '--sync-interval-ms', '1e3'])).toThrow(/--sync-interval-ms/);
    expect(() => parseCommandLine([...required, '--report-interval-ms', '0'])).toThrow(/--report-interval-ms/);
    expect(() => parseCommandLine(['--control-plane', 'ftp://x', ...required.slice(2)])).toThrow(/--control-plane/);
    expect(() => parseCommandLine([...required, '--unknown'])).toThrow(/unknown/);
    expect(() => parseCommandLine([...required, 'positional'])).toThrow();
  });

  it('answers help', () => {
    expect(parseCommandLine(['--help'])).toBe('help');
  });
});
