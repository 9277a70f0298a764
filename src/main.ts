import { runService } from './cli/run-service.ts';

/** Composition root for `npm start`: config → database → jobs → HTTP, in one process. */
await runService({ http: true, worker: true }, 'start');
