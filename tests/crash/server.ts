import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import {
  baseEnv,
  freshDatabaseUrl,
  freshTemporaryDir,
  type Server,
  startServer,
  waitForUrl,
} from '../helpers/server-process.ts';

export const ADMIN = { email: 'admin@crash.test', password: 'admin-password-1' };

/** Rows of a query, on PostgreSQL (pg) or on the embedded database (PGlite) alike. */
export type Sql = (text: string, params?: unknown[]) => Promise<Array<Record<string, any>>>;

export interface Answer {
  status: number;
  body: any;
  cookie?: string;
}

/** The request never got an answer: the connection failed or broke (the server was killed). */
export class ConnectionLost extends Error {}

export interface KillRecord {
  /** Which kill of the run (1-based). */
  index: number;
  round: number;
  /** What the round was doing when the signal was sent, as the suite saw it. */
  inFlight: { reports: number; advance: boolean; actions: number };
  /** Filled in after the restart: where the kill landed (ingestion, billing, sweep, …). */
  landed: string;
  restartMs: number;
}

/**
 * One Tierline server process on one database, killed with SIGKILL and started again on the same
 * database. Requests wait while it is down; `generation` counts the starts, so a caller whose request
 * broke can tell a kill (a new generation comes) from anything else (a bug: the suite fails).
 */
export class CrashServer {
  readonly env: Record<string, string>;
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  generation = 0;
  kills: KillRecord[] = [];
  requests = 0;
  /** How long the server was down, in all, from each kill to the restarted server's first line. */
  downMs = 0;
  private server: Server | undefined;
  private base: URL | undefined;
  private up: Promise<void> = Promise.resolve();
  private markUp: () => void = () => {};
  private pool: pg.Pool | undefined;
  private embedded: PGlite | undefined;
  private isStopping = false;
  /** The server's log lines that tell of an error (pino level ≥ 50), of every start, for the report. */
  readonly errorLogs: string[] = [];

  private constructor(env: Record<string, string>, databaseUrl: string | undefined, dataDir: string) {
    this.env = env;
    this.databaseUrl = databaseUrl;
    this.dataDir = dataDir;
  }

  /** A server on a fresh database: a new database on DATABASE_URL's server, else an embedded data dir. */
  static async create(start: string): Promise<CrashServer> {
    const dataDir = await freshTemporaryDir();
    const databaseUrl = await freshDatabaseUrl();
    const env = {
      ...baseEnv(),
      PORT: '0',
      HOST: '127.0.0.1',
      TIERLINE_DATA_DIR: dataDir,
      TIERLINE_TEST_CLOCK: '1',
      TIERLINE_TEST_CLOCK_START: start,
      TIERLINE_ADMIN_EMAIL: ADMIN.email,
      TIERLINE_ADMIN_PASSWORD: ADMIN.password,
      TIERLINE_LOG_LEVEL: 'warn',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    };
    const server = new CrashServer(env, databaseUrl, dataDir);
    await server.start();
    return server;
  }

  get kind(): 'postgres' | 'embedded' {
    return this.databaseUrl ? 'postgres' : 'embedded';
  }

  /** Whether SQL can be run while the server runs (PostgreSQL: yes; PGlite is one process's). */
  get hasLiveSql(): boolean {
    return this.databaseUrl !== undefined;
  }

  private async start(): Promise<void> {
    const server = startServer(this.env);
    this.server = server;
    let partial = '';
    server.child.stdout?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (/"level":(50|60)/.test(line)) this.errorLogs.push(line.slice(0, 20_000));
    });
    void server.exited.then(({ signal }) => {
      if (this.server === server && signal !== 'SIGKILL' && !this.isStopping) {
        this.failure = `the server exited on its own (${signal ?? 'exit'})\n${server.stderr().slice(-4000)}`;
      }
    });
    this.base = await waitForUrl(server, 120_000);
    this.generation++;
    this.markUp();
  }

  /** The cause of the server's latest logged error, e.g. "deadlock detected", to explain a 5xx. */
  latestErrorCause(): string {
    const line = this.errorLogs[this.errorLogs.length - 1];
    if (!line) return 'nothing logged';
    try {
      const message = String(JSON.parse(line).err?.message ?? '');
      return message.slice(message.lastIndexOf(': ') + 2).slice(0, 200) || message.slice(0, 200);
    } catch {
      return line.slice(0, 200);
    }
  }

  /** Set when the server stopped without being told to: every waiting caller then fails. */
  failure: string | undefined;

  /** Resolves when the server is up (at once if it is). */
  async whenUp(): Promise<void> {
    await this.up;
    if (this.failure) throw new Error(this.failure);
  }

  /** Kills the server with SIGKILL, waits for it to be gone and starts it again on the same database. */
  async killAndRestart(
    record: Omit<KillRecord, 'index' | 'landed' | 'restartMs'>,
    whileDown?: (entry: KillRecord) => Promise<void>,
  ): Promise<KillRecord> {
    const server = this.server as Server;
    this.up = new Promise((resolve) => {
      this.markUp = resolve;
    });
    const down = performance.now();
    const entry: KillRecord = { ...record, index: this.kills.length + 1, landed: '', restartMs: 0 };
    this.kills.push(entry);
    server.child.kill('SIGKILL');
    await server.exited;
    // While nothing runs: what the database holds now is exactly what the killed process left.
    await whileDown?.(entry);
    const started = performance.now();
    await this.start();
    entry.restartMs = Math.round(performance.now() - started);
    this.downMs += performance.now() - down;
    return entry;
  }

  /** One HTTP request to the running server; ConnectionLost when it gets no answer. */
  async call(
    method: string,
    path: string,
    options: { body?: unknown; token?: string; cookie?: string } = {},
  ): Promise<Answer> {
    await this.whenUp();
    const base = this.base as URL;
    const headers: Record<string, string> = {};
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.cookie) headers.cookie = options.cookie;
    this.requests++;
    let response: Response;
    let text: string;
    try {
      response = await fetch(new URL(path, base), {
        method,
        headers,
        body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
      });
      text = await response.text();
    } catch (error) {
      throw new ConnectionLost(`${method} ${path}: ${(error as Error).message}`, { cause: error });
    }
    return {
      status: response.status,
      body: text ? JSON.parse(text) : null,
      cookie: response.headers.get('set-cookie')?.split(';')[0],
    };
  }

  /**
   * Sends until an answer comes, as a runtime does: when the connection breaks because the server was
   * killed, waits for the restart and sends the same request again. A broken connection without a kill
   * is a failure. `beforeResend` may decide, after a restart, that the request need not be sent again.
   */
  async callUntilAnswered(
    method: string,
    path: string,
    options: { body?: unknown; token?: string; cookie?: () => Promise<string> } = {},
    beforeResend?: () => Promise<Answer | undefined>,
  ): Promise<{ answer: Answer; resends: number }> {
    let resends = 0;
    let wasInterrupted = false;
    for (;;) {
      const generation = this.generation;
      try {
        // After a restart: maybe what was asked happened before the kill, and need not be asked again.
        if (wasInterrupted && beforeResend) {
          const settled = await beforeResend();
          if (settled) return { answer: settled, resends };
        }
        const cookie = options.cookie ? await options.cookie() : undefined;
        if (wasInterrupted) resends++;
        return { answer: await this.call(method, path, { ...options, cookie }), resends };
      } catch (error) {
        if (!(error instanceof ConnectionLost)) throw error;
        await this.waitForNewGeneration(generation, error);
        wasInterrupted = true;
      }
    }
  }

  private async waitForNewGeneration(generation: number, error: Error): Promise<void> {
    // A kill is under way (or done) when the generation moved or a restart is pending.
    for (let waited = 0; waited < 2000; waited += 20) {
      await this.up;
      if (this.failure) throw new Error(this.failure);
      if (this.generation > generation) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`a request broke with no kill: ${error.message}`, { cause: error });
  }

  /** SQL on the database: through pg while the server runs on PostgreSQL; embedded only once stopped. */
  sql: Sql = async (text, params = []) => {
    if (this.databaseUrl) {
      this.pool ??= new pg.Pool({ connectionString: this.databaseUrl, max: 2 });
      return (await this.pool.query(text, params)).rows;
    }
    if (!this.embedded) throw new Error('the embedded database can only be read once the server is stopped');
    return (await this.embedded.query<Record<string, any>>(text, params)).rows;
  };

  /** Stops the server with SIGTERM (a clean stop), so the embedded database can be opened here. */
  async stop(): Promise<void> {
    this.isStopping = true;
    const server = this.server;
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    if (!this.databaseUrl) this.embedded = await PGlite.create(this.dataDir);
  }

  /** Closes the SQL connections (the database itself is dropped by cleanUpProcesses). */
  async close(): Promise<void> {
    await this.pool?.end();
    this.pool = undefined;
    await this.embedded?.close();
    this.embedded = undefined;
  }
}
