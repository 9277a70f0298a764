/** One route of the control plane's configuration: requests under `pathPrefix` go to `upstreamUrl`. */
export interface Route {
  pathPrefix: string;
  upstreamUrl: URL;
  /** The service name usage is reported under; undefined when the route names none. */
  service: string | undefined;
}

/** The control plane's configuration as the runtime uses it. */
export interface RuntimeConfig {
  controlPlaneId: string;
  orgId: string;
  runtimeId: string;
  version: number | string | undefined;
  routes: Route[];
  /** Routes left out because they were malformed, each with the reason. */
  skipped: string[];
}

export class InvalidConfigError extends Error {}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads one route; returns the reason when it cannot be used. */
function parseRoute(raw: unknown): Route | string {
  if (!isRecord(raw)) return 'not an object';
  const { path_prefix: pathPrefix, upstream_url: upstream, service } = raw;
  if (typeof pathPrefix !== 'string' || !pathPrefix.startsWith('/')) {
    return `path_prefix must be a string starting with "/", got ${JSON.stringify(pathPrefix)}`;
  }
  if (typeof upstream !== 'string' || !URL.canParse(upstream)) {
    return `upstream_url of ${pathPrefix} must be a URL, got ${JSON.stringify(upstream)}`;
  }
  const upstreamUrl = new URL(upstream);
  if (upstreamUrl.protocol !== 'http:' && upstreamUrl.protocol !== 'https:') {
    return `upstream_url of ${pathPrefix} must be http or https, got ${upstreamUrl.protocol}`;
  }
  if (service !== undefined && service !== null && typeof service !== 'string') {
    return `service of ${pathPrefix} must be a string`;
  }
  return { pathPrefix, upstreamUrl, service: service || undefined };
}

/**
 * Reads the body of GET /v1/runtime/config. Throws InvalidConfigError when it is not a
 * configuration at all; individual malformed routes are left out and listed in `skipped`.
 */
export function parseRuntimeConfig(body: unknown): RuntimeConfig {
  if (!isRecord(body) || !Array.isArray(body.routes)) {
    throw new InvalidConfigError('the configuration has no routes array');
  }
  const routes: Route[] = [];
  const skipped: string[] = [];
  for (const raw of body.routes) {
    const route = parseRoute(raw);
    if (typeof route === 'string') skipped.push(route);
    else routes.push(route);
  }
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  const version = typeof body.version === 'number' || typeof body.version === 'string' ? body.version : undefined;
  return {
    controlPlaneId: text(body.control_plane_id),
    orgId: text(body.org_id),
    runtimeId: text(body.runtime_id),
    version,
    routes,
    skipped,
  };
}

/**
 * Whether `path` lies under `prefix`. The prefix must end at a segment boundary: "/echo" covers
 * "/echo" and "/echo/a" but not "/echoes", so one route never captures a sibling's traffic.
 */
export function isUnderPrefix(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false;
  return path.length === prefix.length || prefix.endsWith('/') || path[prefix.length] === '/';
}

/** The route with the longest prefix covering `path`, or undefined when none does. */
export function findRoute(routes: readonly Route[], path: string): Route | undefined {
  let best: Route | undefined;
  for (const route of routes) {
    if (!isUnderPrefix(path, route.pathPrefix)) continue;
    if (!best || route.pathPrefix.length > best.pathPrefix.length) best = route;
  }
  return best;
}

/**
 * The URL a request for `path` and `search` is sent to: the upstream's origin, its own path (if
 * any) followed by the request's full path, and the request's query.
 */
export function upstreamTarget(route: Route, path: string, search: string): URL {
  const target = new URL(route.upstreamUrl.origin);
  const basePath = route.upstreamUrl.pathname.replace(/\/+$/, '');
  target.pathname = `${basePath}${path}`;
  target.search = search;
  return target;
}

/**
 * Splits a request target into the normalised path used for matching and forwarding (dot
 * segments resolved, so "/echo/../admin" is matched as "/admin") and the query string.
 */
export function splitRequestTarget(requestTarget: string): { path: string; search: string } | undefined {
  if (!requestTarget.startsWith('/') && !/^https?:\/\//i.test(requestTarget)) return undefined;
  // A target starting with "//" would parse as a host name; keep it a path.
  const parsable = requestTarget.startsWith('//') ? `/${requestTarget.replace(/^\/+/, '')}` : requestTarget;
  if (!URL.canParse(parsable, 'http://runtime.invalid')) return undefined;
  const url = new URL(parsable, 'http://runtime.invalid');
  return { path: url.pathname, search: url.search };
}
