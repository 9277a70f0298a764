import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream';
import { findRoute, type Route, splitRequestTarget, upstreamTarget } from './routing.ts';

/** What the gateway does with traffic, as the control plane last said. */
export type GatewayMode =
  /** No configuration yet: nothing can be routed. */
  { kind: 'unsynced' } | { kind: 'serving'; routes: readonly Route[] } | { kind: 'decommissioned' };

export interface GatewayOptions {
  mode(): GatewayMode;
  /** Called once for every request matched to a route and sent on to its upstream. */
  countRequest(route: Route): void;
  /** How long an upstream may stay silent before the request fails with 504. */
  upstreamTimeoutMs?: number;
}

// Headers that describe one connection, not the message: never passed on (RFC 9110, 7.6.1).
const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Raw headers without the hop-by-hop ones, including any the Connection header names. */
function endToEndHeaders(raw: readonly string[], drop: readonly string[] = []): string[] {
  const named = new Set(drop);
  for (let index = 0; index < raw.length; index += 2) {
    if (raw[index].toLowerCase() === 'connection') {
      for (const name of raw[index + 1].split(',')) named.add(name.trim().toLowerCase());
    }
  }
  const kept: string[] = [];
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index].toLowerCase();
    if (hopByHop.has(name) || named.has(name)) continue;
    kept.push(raw[index], raw[index + 1]);
  }
  return kept;
}

function sendError(response: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  response.end(body);
}

class UpstreamTimeoutError extends Error {}

function proxy(request: IncomingMessage, response: ServerResponse, target: URL, timeoutMs: number): void {
  const headers = endToEndHeaders(request.rawHeaders, [
    'host',
    'x-forwarded-for',
    'x-forwarded-host',
    'x-forwarded-proto',
  ]);
  const forwardedFor = [request.headers['x-forwarded-for'], request.socket.remoteAddress].filter(Boolean).join(', ');
  headers.push('Host', target.host, 'X-Forwarded-For', forwardedFor, 'X-Forwarded-Proto', 'http');
  if (request.headers.host) headers.push('X-Forwarded-Host', request.headers.host);

  const transport = target.protocol === 'https:' ? https : http;
  const upstreamRequest = transport.request(target, { method: request.method, headers });
  upstreamRequest.setTimeout(timeoutMs, () => upstreamRequest.destroy(new UpstreamTimeoutError()));

  upstreamRequest.on('response', (upstreamResponse) => {
    response.writeHead(
      upstreamResponse.statusCode ?? 502,
      upstreamResponse.statusMessage,
      endToEndHeaders(upstreamResponse.rawHeaders),
    );
    // Errors on either side end both streams; there is nothing more to tell the client.
    pipeline(upstreamResponse, response, () => {});
  });
  upstreamRequest.on('error', (error) => {
    request.unpipe(upstreamRequest);
    if (response.headersSent) {
      response.destroy();
      return;
    }
    // Read what is left of the request body so the error answer reaches the client.
    request.resume();
    if (error instanceof UpstreamTimeoutError) {
      sendError(response, 504, 'upstream_timeout', 'The upstream service did not answer in time.');
    } else {
      sendError(response, 502, 'upstream_unreachable', 'The upstream service could not be reached.');
    }
  });
  // The client went away before its answer was complete: stop the upstream work too.
  response.on('close', () => {
    if (!response.writableFinished) upstreamRequest.destroy();
  });
  // Not pipeline(): that would destroy the client's request, and its socket, on an upstream error.
  request.pipe(upstreamRequest);
}

/** The proxy: routes each request by the longest matching path prefix and counts it. */
export function createGateway(options: GatewayOptions): http.Server {
  const timeoutMs = options.upstreamTimeoutMs ?? 60_000;
  return http.createServer((request, response) => {
    const mode = options.mode();
    if (mode.kind === 'decommissioned') {
      sendError(
        response,
        503,
        'control_plane_decommissioned',
        "This gateway's control plane has been decommissioned; it no longer serves traffic.",
      );
      return;
    }
    if (mode.kind === 'unsynced') {
      sendError(
        response,
        503,
        'runtime_not_configured',
        'This gateway has not received its configuration from the control plane yet.',
      );
      return;
    }
    const target = splitRequestTarget(request.url ?? '');
    if (!target) {
      sendError(response, 400, 'invalid_request_target', 'The request target is not a path.');
      return;
    }
    const route = findRoute(mode.routes, target.path);
    if (!route) {
      sendError(response, 404, 'route_not_found', `No route of this gateway matches ${target.path}.`);
      return;
    }
    options.countRequest(route);
    proxy(request, response, upstreamTarget(route, target.path, target.search), timeoutMs);
  });
}
