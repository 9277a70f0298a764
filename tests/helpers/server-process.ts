import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { SERVICE_NODE_OPTIONS } from '../../src/cli/garbage-collection.ts';

// The real server, started the way a person starts it: the pinned Node (with the service's Node
// options) on src/main.ts, from the repo root.
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const nodeBinary = join(repoRoot, 'node_modules', '.bin', 'node');

const running = new Set<ChildProcess>();
const temporaryDirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];

/** Kills every server still running and removes temporary directories and databases. */
export async function cleanUpProcesses() {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
  for (const cleanup of cleanups.splice(0)) await cleanup();
  for (const dir of temporaryDirs.splice(0)) await rm(dir, { recursive: true, force: true });
}

/** A shell-like environment: nothing Tierline reads is inherited from the test runner. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'LANG', 'TMPDIR']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

export async function freshTemporaryDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tierline-startup-'));
  temporaryDirs.push(dir);
  return dir;
}

/**
 * With DATABASE_URL set, a new database on that server (dropped afterwards), so the server's
 * migrations never touch a database other tests share; without it, undefined (embedded).
 */
export async function freshDatabaseUrl(): Promise<string | undefined> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) return undefined;
  const name = `tierline_startup_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  cleanups.push(async () => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    await client.query(`drop database if exists ${name} with (force)`);
    await client.end();
  });
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface Server {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `src/main.ts` (API and worker), or the command line with `args` (e.g. `src/cli.ts worker`),
 * with the Node options the documented commands give a serving process unless told otherwise.
 */
export function startServer(
  env: Record<string, string>,
  args: string[] = ['src/main.ts'],
  nodeOptions: readonly string[] = SERVICE_NODE_OPTIONS,
): Server {
  const child = spawn(nodeBinary, [...nodeOptions, ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Waits for the "Tierline is running at <url>" line and returns the URL it names. */
export async function waitForUrl(server: Server, timeoutMs = 45_000): Promise<URL> {
  const pattern = /^Tierline is running at (http:\/\/\S+?:(\d+))\b/m;
  const deadline = Date.now() + timeoutMs;
  let hasExited = false;
  void server.exited.then(() => {
    hasExited = true;
  });
  while (Date.now() < deadline) {
    const match = pattern.exec(server.stdout());
    if (match) return new URL(match[1]);
    if (hasExited) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `the server never said where it runs\n--- stdout\n${server.stdout()}\n--- stderr\n${server.stderr()}`,
  );
}
