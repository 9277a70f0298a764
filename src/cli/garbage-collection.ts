import v8 from 'node:v8';

/**
 * The Node options a serving process is started with: `npm start`, `npm run tierline`, the
 * `tierline` command, the Dockerfile and the benchmark put them on the `node` command line, since V8
 * reads them only when it starts (and refuses them in NODE_OPTIONS).
 *
 * `--no-maglev`: functions go from the baseline compiler straight to the optimizing one. While
 * Maglev's code ran the request path (the first ~15,000 requests after a start), every request's
 * objects survived minor collections (9 MB each time, 10 to 20 ms, every 1.5 s at 1,000 requests/s)
 * although nothing referenced them: a heap snapshot, which collects fully, held none. Without it, a
 * collection finds about 10 KB alive from the first requests on (docs/benchmarks.md).
 */
export const SERVICE_NODE_OPTIONS: readonly string[] = ['--no-maglev'];

/** The service options this process was started without (`execArgv` is the process's own). */
export function missingServiceNodeOptions(execArgv: readonly string[]): string[] {
  return SERVICE_NODE_OPTIONS.filter((option) => !execArgv.includes(option));
}

/**
 * Keeps a serving process's short-lived objects in the young generation. After a burst (a cold
 * cache, a deploy, a spike), V8 may decide that the objects of every request will live long and
 * allocate them in the old generation from then on ("allocation-site pretenuring"): each minor
 * collection then took 15 to 40 ms instead of 2 to 3, every second or two, under a steady 1,000
 * requests/s (docs/benchmarks.md). Turning the decision off costs nothing measurable here. Unlike
 * SERVICE_NODE_OPTIONS, this flag is read at each decision, so it can be set once running.
 */
export function keepShortLivedObjectsYoung(): void {
  v8.setFlagsFromString('--no-allocation-site-pretenuring');
}
