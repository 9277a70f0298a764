/** Shared parts of the benchmarks: a server process, an HTTP client with keep-alive, statistics. */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import pg from 'pg';
import { SERVICE_NODE_OPTIONS } from '../src/cli/garbage-collection.ts';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));

export interface ServerProcess {
  url: URL;
  child: ChildProcess;
  /** Peak resident memory of the server so far, in MiB (VmHWM). */
  peakRssMiB(): number;
  /** Starts the peak count afresh from the current resident memory. */
  resetPeakRss(): void;
  stop(): Promise<void>;
}

/** A fresh database for one benchmark: a temp dir (embedded) or a new database on the server. */
export async function freshDatabase(
  kind: 'embedded' | 'postgres',
): Promise<{ env: Record<string, string>; drop: () => Promise<void> }> {
  if (kind === 'embedded') {
    const dir = mkdtempSync(join(os.tmpdir(), 'tierline-bench-'));
    return { env: { TIERLINE_DATA_DIR: dir }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const serverUrl = process.env.DATABASE_URL as string;
  const name = `tierline_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString(), TIERLINE_DATA_DIR: 'memory://' },
    drop: async () => {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

/**
 * Starts the real server (src/main.ts on the pinned Node, with the Node options the documented
 * commands give it and `nodeArgs` before it) and waits until it says where it runs.
 */
export async function startServer(env: Record<string, string>, nodeArgs: string[] = []): Promise<ServerProcess> {
  return startNodeProcess(
    [...SERVICE_NODE_OPTIONS, ...nodeArgs, 'src/main.ts'],
    /Tierline is running at (http:\/\/\S+)/,
    {
      PORT: '0',
      HOST: '127.0.0.1',
      TIERLINE_ADMIN_EMAIL: 'admin@bench.test',
      TIERLINE_ADMIN_PASSWORD: 'bench-admin-password',
      TIERLINE_LOG_LEVEL: 'warn',
      ...env,
    },
  );
}

/** The Fastify hello-world baseline (bench/hello-server.ts) in its own process on the pinned Node. */
export async function startHelloServer(): Promise<ServerProcess> {
  return startNodeProcess(['bench/hello-server.ts'], /Hello-world is running at (http:\/\/\S+)/, {});
}

/** Spawns a Node script with a bare environment and waits for the line that gives its URL. */
async function startNodeProcess(args: string[], ready: RegExp, env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(join(repoRoot, 'node_modules', '.bin', 'node'), args, {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = ready.exec(output);
      if (match) {
        clearInterval(timer);
        resolve(new URL(match[1].replace('localhost', '127.0.0.1')));
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`${args.join(' ')} exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    child,
    peakRssMiB() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const match = /VmHWM:\s+(\d+) kB/.exec(status);
      return match ? Math.round(Number(match[1]) / 1024) : 0;
    },
    resetPeakRss() {
      // Linux: 5 resets the peak (VmHWM) to the current resident size.
      writeFileSync(`/proc/${child.pid}/clear_refs`, '5');
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/** One HTTP request with a prepared body; resolves with status, body text and set-cookie. */
export function request(
  base: URL,
  method: string,
  path: string,
  options: { body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string; cookie?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method,
        path,
        headers: {
          ...(options.body !== undefined
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(options.body) }
            : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const setCookie = res.headers['set-cookie']?.[0]?.split(';')[0];
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), cookie: setCookie });
        });
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** A JSON request that must answer the expected status. */
export async function json(
  base: URL,
  method: string,
  path: string,
  body: unknown,
  expected: number,
  headers: Record<string, string> = {},
) {
  const response = await request(base, method, path, {
    body: body === undefined ? undefined : JSON.stringify(body),
    headers,
  });
  if (response.status !== expected) {
    throw new Error(`${method} ${path}: expected ${expected}, got ${response.status} ${response.body.slice(0, 300)}`);
  }
  return { body: response.body ? JSON.parse(response.body) : null, cookie: response.cookie };
}

export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return 0;
  const index = Math.min(sortedMs.length - 1, Math.ceil((p / 100) * sortedMs.length) - 1);
  return sortedMs[Math.max(0, index)];
}

/** Runs `total` tasks with at most `concurrency` in flight; returns each task's duration in ms. */
export async function runConcurrently(total: number, concurrency: number, task: (index: number) => Promise<void>) {
  const durations: number[] = [];
  let next = 0;
  const workers = Array.from({ length: concurrency }, async () => {
    for (;;) {
      const index = next++;
      if (index >= total) return;
      const started = performance.now();
      await task(index);
      durations.push(performance.now() - started);
    }
  });
  await Promise.all(workers);
  return durations.sort((a, b) => a - b);
}

export function machine() {
  return {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

export interface Progress {
  update(value: number): void;
  increment(by?: number): void;
  /** Ends the step; returns its duration in seconds. */
  stop(): number;
}

/**
 * A progress bar for a long step when stdout is a terminal (cli-progress); otherwise one plain line
 * when the step starts and one when it ends, so that logs stay readable.
 */
export function progress(label: string, total: number, unit = ''): Progress {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  if (process.stdout.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `   ${label} [{bar}] {value}/{total}${unit} {duration_formatted}`,
        hideCursor: true,
        barsize: 30,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return {
      update: (value) => bar.update(Math.min(value, total)),
      increment: (by = 1) => bar.increment(by),
      stop() {
        bar.stop();
        return seconds();
      },
    };
  }
  console.log(`   ${label}: ${total}${unit}`);
  return {
    update() {},
    increment() {},
    stop() {
      const elapsed = seconds();
      console.log(`   ${label}: done in ${elapsed.toFixed(1)} s`);
      return elapsed;
    },
  };
}
