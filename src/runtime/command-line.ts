import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { RuntimeOptions } from './runtime.ts';

export const usage = `usage: npm run runtime -- --control-plane URL --token TOKEN --listen [HOST:]PORT
       [--spool-dir DIR] [--sync-interval-ms 5000] [--report-interval-ms 10000]`;

export class UsageError extends Error {}

function integer(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return parsed;
}

/** Reads the command line into runtime options; throws UsageError naming the argument at fault. */
export function parseCommandLine(args: string[]): Omit<RuntimeOptions, 'log'> | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        'control-plane': { type: 'string' },
        token: { type: 'string' },
        listen: { type: 'string' },
        'spool-dir': { type: 'string' },
        'sync-interval-ms': { type: 'string' },
        'report-interval-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  const text = (name: string) => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };

  const controlPlane = text('control-plane');
  if (!controlPlane) throw new UsageError('--control-plane is required');
  if (!URL.canParse(controlPlane) || !/^https?:$/.test(new URL(controlPlane).protocol)) {
    throw new UsageError(`--control-plane must be an http or https URL, got "${controlPlane}"`);
  }
  const token = text('token');
  if (!token) throw new UsageError('--token is required');
  const listen = text('listen');
  if (!listen) throw new UsageError('--listen is required');
  const listenMatch = /^(?:(.+):)?(\d+)$/.exec(listen);
  if (!listenMatch) throw new UsageError(`--listen must be PORT or HOST:PORT, got "${listen}"`);
  const host = listenMatch[1]?.replace(/^\[(.*)\]$/, '$1');

  return {
    controlPlaneUrl: new URL(controlPlane),
    token,
    port: integer(listenMatch[2], 'listen', 0, 0, 65535),
    host,
    spoolDir: resolve(text('spool-dir') ?? 'tierline-runtime-spool'),
    syncIntervalMs: integer(text('sync-interval-ms'), 'sync-interval-ms', 5_000, 50, 86_400_000),
    reportIntervalMs: integer(text('report-interval-ms'), 'report-interval-ms', 10_000, 50, 86_400_000),
  };
}
