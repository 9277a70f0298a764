import { ConfigError, loadConfig } from './config.ts';
import { createTierline } from './tierline.ts';

/** Composition root: config → database → jobs → HTTP. */
async function main() {
  let config: ReturnType<typeof loadConfig>;
  let tierline: Awaited<ReturnType<typeof createTierline>>;
  try {
    config = loadConfig();
    tierline = await createTierline(config, { logger: true });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`tierline: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  await tierline.startWorker();
  await tierline.app.listen({ port: config.port, host: config.host });
  const bound = tierline.app.server.address();
  const port = typeof bound === 'object' && bound ? bound.port : config.port;
  const shown = `http://localhost:${port}`;
  console.log(
    `Tierline is running at ${shown} (${tierline.database.kind} database${config.testClock ? ', test clock' : ''})`,
  );
  const stop = async () => {
    await tierline.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

await main();
