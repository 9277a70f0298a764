import { parseCommandLine, UsageError, usage } from './command-line.ts';
import { startRuntime } from './runtime.ts';

/** One line per notable event, with the time it happened. */
function log(line: string): void {
  console.log(`${new Date().toISOString()} ${line}`);
}

/** Parses the command line, starts the runtime and stops it cleanly on SIGTERM or SIGINT. */
export async function runRuntime(args: string[]) {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(args);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`tierline-runtime: ${error.message}\n${usage}`);
      process.exit(2);
    }
    throw error;
  }
  if (parsed === 'help') {
    console.log(usage);
    return;
  }
  let runtime: Awaited<ReturnType<typeof startRuntime>>;
  try {
    runtime = await startRuntime({ ...parsed, log });
  } catch (error) {
    // A spool folder it cannot write, a port in use…: one line, not a stack trace.
    console.error(`tierline-runtime: cannot start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  console.log(`Tierline runtime listening on http://localhost:${runtime.port}`);
  log(`spooling usage reports in ${parsed.spoolDir}`);

  let isStopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (isStopping) return;
    isStopping = true;
    log(`${signal} received; stopping`);
    await runtime.close();
    log('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// Run directly (`npm run runtime`), or imported by `tierline runtime`.
if (import.meta.main) await runRuntime(process.argv.slice(2));
