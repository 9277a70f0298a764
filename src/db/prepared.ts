import type { Executor } from './client.ts';

const cache = new WeakMap<Executor, Map<string, unknown>>();

/**
 * A named prepared statement for one database handle, built once: PostgreSQL then parses and plans
 * it once per connection instead of on every request. For the hottest reads only.
 */
export function preparedFor<T>(executor: Executor, name: string, build: (executor: Executor) => T): T {
  let statements = cache.get(executor);
  if (!statements) {
    statements = new Map();
    cache.set(executor, statements);
  }
  let statement = statements.get(name) as T | undefined;
  if (!statement) {
    statement = build(executor);
    statements.set(name, statement);
  }
  return statement;
}
