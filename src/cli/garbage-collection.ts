import v8 from 'node:v8';

/**
 * Keeps a serving process's short-lived objects in the young generation. After a burst (a cold
 * cache, a deploy, a spike), V8 may decide that the objects of every request will live long and
 * allocate them in the old generation from then on ("allocation-site pretenuring"): each minor
 * collection then took 15 to 40 ms instead of 2 to 3, every second or two, under a steady 1,000
 * requests/s (docs/benchmarks.md). Turning the decision off costs nothing measurable here.
 */
export function keepShortLivedObjectsYoung(): void {
  v8.setFlagsFromString('--no-allocation-site-pretenuring');
}
