import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Deps } from '../../deps.ts';
import { errors } from '../../http/schemas.ts';
import { parseInstant } from '../../kernel/calendar.ts';
import { fail } from '../../kernel/errors.ts';
import { checkAdvance, setTestClock } from './test-clock.ts';

/** The test clock (spec 10): present only with TIERLINE_TEST_CLOCK=1, else every path is a 404. */
export function clockRoutes(deps: Deps) {
  let advancing: Promise<unknown> = Promise.resolve();
  return async (base: FastifyInstance) => {
    if (!deps.clock.isTestClock) return;
    const app = base.withTypeProvider<TypeBoxTypeProvider>();

    app.get('/test-clock', { schema: { tags: ['test clock'] } }, async () => {
      const now = await deps.clock.now();
      return { now: now.toISOString(), next_due_at: (await deps.runner.nextDueAt())?.toISOString() ?? null };
    });

    app.post(
      '/test-clock/advance',
      {
        schema: {
          tags: ['test clock'],
          body: Type.Object({ to: Type.String({ maxLength: 40, description: 'The RFC 3339 instant to move to.' }) }),
          response: errors(400),
        },
      },
      async (request) => {
        const to = parseInstant(request.body.to);
        if (!to) throw fail.validation('to', 'The instant must be RFC 3339, e.g. 2027-01-31T10:00:00.000Z.');
        const run = advancing.then(async () => {
          checkAdvance(await deps.clock.now(), to);
          const result = await deps.runner.runDue(to);
          await setTestClock(deps.db, to);
          // What a worker pass does besides due items (emails, webhooks), as of the new instant.
          for (const task of deps.passTasks) {
            await task.run(to).catch((error) => request.log.error({ err: error, task: task.name }, 'pass task failed'));
          }
          return result;
        });
        advancing = run.catch(() => undefined);
        const result = await run;
        return { now: (await deps.clock.now()).toISOString(), processed: result.processed, failed: result.failed };
      },
    );
  };
}
