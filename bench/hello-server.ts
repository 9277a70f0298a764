/**
 * The baseline of the API benchmark: Fastify's hello-world, `{ hello: 'world' }`, in its own process
 * on the same Node, with Fastify's defaults (no logger), as fast as a Fastify route can answer here.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : 0;
console.log(`Hello-world is running at http://127.0.0.1:${port}`);
const stop = async () => {
  await app.close();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
