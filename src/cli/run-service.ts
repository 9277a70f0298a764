import { type Config, ConfigError, loadConfig } from '../config.ts';
import { createTierline, type Tierline } from '../tierline.ts';
import { keepShortLivedObjectsYoung, missingServiceNodeOptions } from './garbage-collection.ts';

/** How long a stopping process waits for requests in flight and work in hand before it gives up. */
const DRAIN_TIMEOUT_MS = 30_000;

/**
 * Runs Tierline as a long-lived process: the HTTP server, the due-work worker, or both. SIGTERM or
 * SIGINT stop it cleanly: no new requests or work are taken, those in hand finish, then it exits.
 */
export async function runService(roles: { http: boolean; worker: boolean }, command: string): Promise<void> {
  keepShortLivedObjectsYoung();
  let config: Config;
  let tierline: Tierline;
  try {
    config = loadConfig();
    if (!config.databaseUrl && !(roles.http && roles.worker)) {
      throw new ConfigError(
        `\`tierline ${command}\` needs DATABASE_URL: the embedded database belongs to one process, so run \`tierline start\` (both) with it`,
      );
    }
    tierline = await createTierline(config, { logger: true });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`tierline: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const log = tierline.app.log;
  const missing = missingServiceNodeOptions(process.execArgv);
  if (missing.length > 0) {
    log.warn(
      { missing },
      `started without the Node options ${missing.join(' ')}: start it as \`node ${missing.join(' ')} src/cli.ts …\` (docs/deployment.md#node-options); until the request path is fully optimized, minor garbage collections take several times as long`,
    );
  }
  if (roles.worker) await tierline.startWorker();
  const parts = [roles.http ? 'API and pages' : '', roles.worker ? 'due-work worker' : ''].filter(Boolean);
  const where = `${tierline.database.kind} database${config.testClock ? ', test clock' : ''}`;
  if (roles.http) {
    await tierline.app.listen({ port: config.port, host: config.host });
    const bound = tierline.app.server.address();
    const port = typeof bound === 'object' && bound ? bound.port : config.port;
    console.log(`Tierline is running at http://localhost:${port} (${where}): ${parts.join(' and ')}`);
  } else {
    console.log(`Tierline is running (${where}): ${parts.join(' and ')}`);
  }

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'stopping: finishing the requests and work in hand');
    const timeout = setTimeout(() => {
      log.error({ timeoutMs: DRAIN_TIMEOUT_MS }, 'still busy after the drain timeout: exiting');
      process.exit(1);
    }, DRAIN_TIMEOUT_MS);
    timeout.unref();
    try {
      await tierline.close();
      log.info('stopped');
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'error while stopping');
      process.exit(1);
    }
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
