#!/usr/bin/env -S node --no-maglev
/**
 * `tierline <command>`: the operator's command line. `start` runs the API and the worker in one
 * process (what `npm start` does); `serve` and `worker` run them apart against one PostgreSQL.
 */
import { parseArgs } from 'node:util';
import { catchUpCommand } from './cli/catch-up.ts';
import { advanceClockCommand } from './cli/clock.ts';
import { migrateCommand } from './cli/migrate.ts';
import { runService } from './cli/run-service.ts';
import { ConfigError, loadConfig } from './config.ts';

const usage = `usage: tierline <command> [options]

  start                   the API, the web pages and the due-work worker in one process (default)
  serve                   the API and the web pages only (needs DATABASE_URL)
  worker                  the due-work worker only (needs DATABASE_URL)
  migrate                 apply the database migrations, with progress, and exit
  catch-up [--retry-failed]
                          do all due work that is due now, with progress, and exit; with
                          --retry-failed, first put back the items that used up their attempts
  admin create --email E [--role admin|support|sales ...] [--name N]
                          create a staff member; the password is read from standard input
  clock advance (--to INSTANT | --by 90m|12h|31d) [--url http://localhost:PORT]
                          move a running server's test clock (TIERLINE_TEST_CLOCK=1)
  runtime --control-plane URL --token T --listen PORT
                          the reference gateway runtime (see npm run runtime -- --help)

Configuration comes from the environment: see docs/configuration.md.`;

function fail(message: string, code = 2): never {
  console.error(`tierline: ${message}`);
  process.exit(code);
}

async function main(argv: string[]) {
  const [command = 'start', ...rest] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    console.log(usage);
    return;
  }
  if (command === 'runtime') {
    const { runRuntime } = await import('./runtime/main.ts');
    await runRuntime(rest);
    return;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  switch (command) {
    case 'start':
      return runService({ http: true, worker: true }, command);
    case 'serve':
      return runService({ http: true, worker: false }, command);
    case 'worker':
      return runService({ http: false, worker: true }, command);
    case 'migrate':
      return migrateCommand(config);
    case 'catch-up':
      if (config.testClock) fail('catch-up runs on the real clock; on the test clock, use `tierline clock advance`');
      return catchUpCommand(config, {
        retryFailed:
          parseArgs({ args: rest, options: { 'retry-failed': { type: 'boolean' } } }).values['retry-failed'] ?? false,
      });
    case 'admin': {
      const [action, ...options] = rest;
      if (action !== 'create') fail(`unknown admin command "${action ?? ''}"\n${usage}`);
      const { values } = parseArgs({
        args: options,
        options: {
          email: { type: 'string' },
          role: { type: 'string', multiple: true },
          name: { type: 'string' },
        },
      });
      if (!values.email) fail('admin create needs --email');
      const { createAdminCommand } = await import('./cli/admin.ts');
      return createAdminCommand(config, {
        email: values.email,
        roles: values.role?.length ? values.role : ['admin'],
        name: values.name ?? 'Administrator',
      });
    }
    case 'clock': {
      const [action, ...options] = rest;
      if (action !== 'advance') fail(`unknown clock command "${action ?? ''}"\n${usage}`);
      const { values } = parseArgs({
        args: options,
        options: { to: { type: 'string' }, by: { type: 'string' }, url: { type: 'string' } },
      });
      try {
        await advanceClockCommand({
          url: values.url ?? `http://localhost:${config.port}`,
          to: values.to,
          by: values.by,
        });
      } catch (error) {
        fail((error as Error).message, 1);
      }
      return;
    }
    default:
      fail(`unknown command "${command}"\n${usage}`);
  }
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
    fail(error.message);
  }
  throw error;
}
