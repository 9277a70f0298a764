import { InvalidConfigError, parseRuntimeConfig, type RuntimeConfig } from './routing.ts';
import type { UsageReport } from './usage-counter.ts';

/** What fetching the configuration came to. */
export type ConfigResult =
  | { kind: 'ok'; config: RuntimeConfig }
  | { kind: 'decommissioned'; message: string }
  /** Anything else: unreachable, refused token, server error, malformed answer. Try again later. */
  | { kind: 'failed'; reason: string };

/** What sending one usage report came to. */
export type ReportResult =
  | { kind: 'accepted'; duplicate: boolean }
  | { kind: 'decommissioned'; message: string }
  /** The control plane can never accept this report (400 and the like): do not send it again. */
  | { kind: 'rejected'; reason: string }
  /** Unreachable, server error, refused token…: keep the report and send it again later. */
  | { kind: 'retry'; reason: string };

const decommissionedCode = 'control_plane_decommissioned';
// Answers that say the report itself is at fault, so sending it again cannot help.
const permanentStatuses = new Set([400, 413, 422]);

interface ErrorBody {
  code: string | undefined;
  message: string | undefined;
}

function readError(body: unknown): ErrorBody {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return {
    code: typeof error?.code === 'string' ? error.code : undefined,
    message: typeof error?.message === 'string' ? error.message : undefined,
  };
}

function describe(status: number, error: ErrorBody): string {
  const detail = [error.code, error.message].filter(Boolean).join(': ');
  return detail ? `HTTP ${status} (${detail})` : `HTTP ${status}`;
}

function describeFailure(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'timed out';
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}

/** The two calls a runtime makes to its control plane, with their answers classified. */
export class ControlPlaneClient {
  readonly #baseUrl: URL;
  readonly #token: string;
  readonly #timeoutMs: number;

  constructor(options: { baseUrl: URL; token: string; timeoutMs?: number }) {
    this.#baseUrl = options.baseUrl;
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  async #call(
    method: string,
    path: string,
    body?: unknown,
    timeoutMs = this.#timeoutMs,
  ): Promise<{ status: number; body: unknown }> {
    const url = new URL(path.slice(1), this.#baseUrl.href.endsWith('/') ? this.#baseUrl : `${this.#baseUrl.href}/`);
    const response = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${this.#token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, body: parsed };
  }

  /** GET /v1/runtime/config. */
  async fetchConfig(): Promise<ConfigResult> {
    let answer: { status: number; body: unknown };
    try {
      answer = await this.#call('GET', '/v1/runtime/config');
    } catch (error) {
      return { kind: 'failed', reason: describeFailure(error) };
    }
    const error = readError(answer.body);
    if (answer.status === 403 && error.code === decommissionedCode) {
      return { kind: 'decommissioned', message: error.message ?? 'the control plane is decommissioned' };
    }
    if (answer.status !== 200) return { kind: 'failed', reason: describe(answer.status, error) };
    try {
      return { kind: 'ok', config: parseRuntimeConfig(answer.body) };
    } catch (parseError) {
      if (parseError instanceof InvalidConfigError) return { kind: 'failed', reason: parseError.message };
      throw parseError;
    }
  }

  /** POST /v1/runtime/usage; `timeoutMs` shortens the wait (when shutting down). */
  async sendReport(report: UsageReport, timeoutMs?: number): Promise<ReportResult> {
    let answer: { status: number; body: unknown };
    try {
      answer = await this.#call('POST', '/v1/runtime/usage', report, timeoutMs);
    } catch (error) {
      return { kind: 'retry', reason: describeFailure(error) };
    }
    const error = readError(answer.body);
    if (answer.status === 200 || answer.status === 201) {
      const duplicate = (answer.body as { duplicate?: unknown } | undefined)?.duplicate === true;
      return { kind: 'accepted', duplicate };
    }
    if (answer.status === 403 && error.code === decommissionedCode) {
      return { kind: 'decommissioned', message: error.message ?? 'the control plane is decommissioned' };
    }
    if (permanentStatuses.has(answer.status)) return { kind: 'rejected', reason: describe(answer.status, error) };
    return { kind: 'retry', reason: describe(answer.status, error) };
  }
}
