/** Runtime and control plane rules. Pure. */

export interface Route {
  path_prefix: string;
  upstream_url: string;
  service: string;
}

export interface ControlPlaneConfig {
  routes: Route[];
}

/** A runtime that has not been heard from for this long shows as disconnected. */
export const CONNECTED_WITHIN_MS = 5 * 60_000;

export type RuntimeState = 'connected' | 'disconnected' | 'never_connected' | 'decommissioned';

export function runtimeState(lastSeenAt: Date | null, controlPlaneStatus: string, now: Date): RuntimeState {
  if (controlPlaneStatus !== 'active') return 'decommissioned';
  if (!lastSeenAt) return 'never_connected';
  return now.getTime() - lastSeenAt.getTime() <= CONNECTED_WITHIN_MS ? 'connected' : 'disconnected';
}

/**
 * Checks a routes list: prefixes start with '/', are unique, upstreams are http(s) URLs. Returns the
 * normalized routes, or the problem with the field it is about.
 */
export function checkRoutes(
  routes: Array<{ path_prefix: string; upstream_url: string; service?: string }>,
): { routes: Route[] } | { field: string; message: string } {
  const seen = new Set<string>();
  const normalized: Route[] = [];
  for (const [index, route] of routes.entries()) {
    if (!route.path_prefix.startsWith('/')) {
      return { field: `routes.${index}.path_prefix`, message: 'A path prefix starts with /.' };
    }
    if (seen.has(route.path_prefix)) {
      return { field: `routes.${index}.path_prefix`, message: `The path prefix ${route.path_prefix} is used twice.` };
    }
    seen.add(route.path_prefix);
    let url: URL;
    try {
      url = new URL(route.upstream_url);
    } catch {
      return { field: `routes.${index}.upstream_url`, message: 'The upstream must be an http or https URL.' };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return { field: `routes.${index}.upstream_url`, message: 'The upstream must be an http or https URL.' };
    }
    const service = route.service?.trim() || route.path_prefix.replace(/^\/+/, '').split('/')[0] || 'default';
    normalized.push({ path_prefix: route.path_prefix, upstream_url: route.upstream_url, service });
  }
  return { routes: normalized };
}
