import { readdir } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  baseEnv,
  cleanUpProcesses,
  freshDatabaseUrl,
  freshTemporaryDir,
  startServer,
  waitForUrl,
} from '../helpers/server-process.ts';

afterEach(cleanUpProcesses);

describe('starting the server', () => {
  it('refuses PORT=abc with one line on stderr naming PORT, and a non-zero exit', async () => {
    const dataDir = await freshTemporaryDir();
    const server = startServer({ ...baseEnv(), PORT: 'abc', TIERLINE_DATA_DIR: dataDir });
    const { code } = await server.exited;
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    const lines = server.stderr().trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('PORT');
    expect(lines[0]).toContain('abc');
    expect(server.stdout()).not.toContain('Tierline is running');
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('starts on a free port, answers /healthz and /readyz, and exits 0 on SIGTERM', async () => {
    const dataDir = await freshTemporaryDir();
    const databaseUrl = await freshDatabaseUrl();
    const server = startServer({
      ...baseEnv(),
      PORT: '0',
      TIERLINE_DATA_DIR: dataDir,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    });
    const url = await waitForUrl(server);
    expect(Number(url.port)).toBeGreaterThan(0);
    expect(server.stdout()).toContain(databaseUrl ? '(postgres database)' : '(embedded database)');

    const health = await fetch(new URL('/healthz', url));
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    const ready = await fetch(new URL('/readyz', url));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });

    server.child.kill('SIGTERM');
    const { code, signal } = await server.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(server.stderr()).toBe('');
    expect(server.stdout()).not.toContain('started without the Node options');
    if (!databaseUrl) expect((await readdir(dataDir)).length).toBeGreaterThan(0);
  });

  it('started without the documented Node options, says which and where to read why, and still serves', async () => {
    const dataDir = await freshTemporaryDir();
    const databaseUrl = await freshDatabaseUrl();
    const server = startServer(
      {
        ...baseEnv(),
        PORT: '0',
        TIERLINE_DATA_DIR: dataDir,
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      },
      ['src/main.ts'],
      [],
    );
    const url = await waitForUrl(server);
    expect((await fetch(new URL('/healthz', url))).status).toBe(200);
    const warnings = server
      .stdout()
      .split('\n')
      .filter((line) => line.includes('started without the Node options'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0])).toMatchObject({ level: 40, missing: ['--no-maglev'] });
    expect(warnings[0]).toContain('docs/deployment.md');
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });
});
