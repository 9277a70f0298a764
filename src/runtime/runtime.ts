import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { ControlPlaneClient } from './control-plane-client.ts';
import { createGateway, type GatewayMode } from './gateway.ts';
import { Reporter } from './reporter.ts';
import type { RuntimeConfig } from './routing.ts';
import { Spool } from './spool.ts';

export interface RuntimeOptions {
  controlPlaneUrl: URL;
  token: string;
  port: number;
  /** The address to listen on; all interfaces when undefined. */
  host?: string;
  spoolDir: string;
  syncIntervalMs: number;
  reportIntervalMs: number;
  log(line: string): void;
  /** Bounds each control plane call, and each wait when shutting down. */
  requestTimeoutMs?: number;
  /** First pause after a failed report (then doubling, up to the cap); defaults 1 s and 60 s. */
  retryBaseMs?: number;
  retryCapMs?: number;
}

export interface RunningRuntime {
  port: number;
  /** Stops accepting, lets requests in flight finish, spools the last counts and tries to send them. */
  close(): Promise<void>;
}

function describeRoutes(config: RuntimeConfig): string {
  const routes = config.routes.map((route) => `${route.pathPrefix} → ${route.upstreamUrl.href}`).join(', ');
  const version = config.version === undefined ? '' : ` version ${config.version}`;
  return `${config.routes.length} route${config.routes.length === 1 ? '' : 's'}${version}${routes ? `: ${routes}` : ''}`;
}

/** Starts a gateway node: syncs its routes, then proxies, counts and reports. */
export async function startRuntime(options: RuntimeOptions): Promise<RunningRuntime> {
  const { log } = options;
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const client = new ControlPlaneClient({ baseUrl: options.controlPlaneUrl, token: options.token, timeoutMs });
  const spool = new Spool(options.spoolDir);
  await spool.open();

  let mode: GatewayMode = { kind: 'unsynced' };
  let lastSynced = '';
  let syncFailure = '';

  const enterDecommissioned = (message: string) => {
    if (mode.kind === 'decommissioned') return;
    mode = { kind: 'decommissioned' };
    log(`control plane decommissioned (${message}); answering 503 to all traffic and checking again every sync`);
  };

  const reporter = new Reporter({
    spool,
    client,
    log,
    now: () => new Date(),
    intervalMs: options.reportIntervalMs,
    backoffBaseMs: options.retryBaseMs,
    backoffCapMs: options.retryCapMs,
    isDecommissioned: () => mode.kind === 'decommissioned',
    onDecommissioned: enterDecommissioned,
  });

  const sync = async () => {
    const result = await client.fetchConfig();
    if (result.kind === 'failed') {
      if (result.reason !== syncFailure) {
        const keeping = mode.kind === 'serving' ? `keeping ${mode.routes.length} routes` : 'no routes yet';
        log(`config sync failed, ${result.reason}; ${keeping}, trying again every sync`);
      }
      syncFailure = result.reason;
      return;
    }
    syncFailure = '';
    if (result.kind === 'decommissioned') {
      enterDecommissioned(result.message);
      return;
    }
    const { config } = result;
    if (mode.kind === 'decommissioned') log('control plane available again; serving traffic');
    mode = { kind: 'serving', routes: config.routes };
    const described = describeRoutes(config);
    if (described !== lastSynced) {
      log(`synced config of runtime ${config.runtimeId || '?'} (org ${config.orgId || '?'}): ${described}`);
      for (const reason of config.skipped) log(`route skipped: ${reason}`);
      lastSynced = described;
    }
  };

  await sync();
  let syncTimer: NodeJS.Timeout | undefined;
  let isClosing = false;
  const syncRound = async () => {
    await sync().catch((error: unknown) => log(`config sync failed: ${String(error)}`));
    if (!isClosing) syncTimer = setTimeout(syncRound, options.syncIntervalMs);
  };
  syncTimer = setTimeout(syncRound, options.syncIntervalMs);

  const server = createGateway({
    mode: () => mode,
    countRequest: (route) => reporter.count(route.service),
  });
  server.listen(options.port, options.host);
  await once(server, 'listening');
  reporter.start();
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    async close() {
      isClosing = true;
      clearTimeout(syncTimer);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const waited = await Promise.race([
        closed.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref()),
      ]);
      if (!waited) server.closeAllConnections();
      await reporter.shutdown(Math.min(timeoutMs, 5_000));
    },
  };
}
