import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where `npm run build:web` puts the pages (web/dist, beside src/). */
export const WEB_DIST_DIR = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/** Paths that belong to the API, its reference and operations: the pages never answer them. */
const RESERVED = /^\/(?:v1|docs|openapi\.json|healthz|readyz|metrics)(?:[/?#]|$)/;

/**
 * The app's own routes, answered with index.html for any client. Other paths get the app only when a
 * browser navigates to them (it asks for text/html), so API clients keep the API's JSON 404. New
 * sections of the pages add their first path segment here.
 */
const APP_ROUTES =
  /^\/(?:$|login$|signup$|accept-invitation$|settings(?:\/|$)|team(?:\/|$)|runtimes(?:\/|$)|support(?:\/|$)|app(?:\/|$))/;

/** A last path segment with a dot names a file: a missing one is a 404, not the app. */
const FILE_LIKE = /\/[^/]*\.[^/]*$/;

// The pages only talk to this origin; styles are inline because Mantine sets CSS variables in style attributes.
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tierline</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem; line-height: 1.5">
<h1>Tierline is running</h1>
<p>The web pages are not built on this server, so only the API answers. Run <code>npm run build:web</code>
(or start with <code>npm start</code>, which builds them when they are missing) and reload this page.</p>
<p>The API reference is at <a href="/docs">/docs</a>.</p>
</body></html>
`;

function sendPageHeaders(reply: FastifyReply) {
  for (const [name, value] of Object.entries(PAGE_HEADERS)) reply.header(name, value);
}

/**
 * Serves the single-page app from web/dist: its files as they are, and index.html for every other
 * GET that is not the API's, so client-side routes (/settings/billing, …) load on a fresh visit.
 * Files are looked up on each request, so a rebuild is served without a restart. Without a build
 * at start the API still runs and the pages answer a short note saying so.
 */
export function webPages(options: { distDir?: string } = {}) {
  const root = options.distDir ?? WEB_DIST_DIR;
  const assetsDir = join(root, 'assets');
  return async (app: FastifyInstance) => {
    const hasBuild = existsSync(root);
    if (!hasBuild) app.log.warn(`The web pages are not built (${root} is missing): serving the API only.`);
    if (hasBuild) {
      await app.register(fastifyStatic, {
        root,
        // Only reply.sendFile: the route below decides what a path is, so the API's 404s stay the API's.
        serve: false,
        cacheControl: false,
        // The build writes .br and .gz beside each file (web/vite.config.ts): sent when the browser accepts them.
        preCompressed: true,
        setHeaders(reply, path) {
          // Vite names assets by their content hash, so they never change; index.html always may.
          const isHashed = path.startsWith(assetsDir);
          reply.header('cache-control', isHashed ? 'public, max-age=31536000, immutable' : 'no-cache');
          if (path.endsWith('.html')) sendPageHeaders(reply);
          else reply.header('x-content-type-options', 'nosniff');
        },
      });
    }

    app.get('/*', { schema: { hide: true } }, async (request, reply) => {
      const path = request.url.split('?')[0];
      if (RESERVED.test(path) || (!hasBuild && FILE_LIKE.test(path))) return reply.callNotFound();
      // A missing file is the API's 404 (sendFile calls the not-found handler), never the app.
      if (FILE_LIKE.test(path)) {
        let file: string;
        try {
          file = decodeURIComponent(path).slice(1);
        } catch {
          return reply.callNotFound();
        }
        return reply.sendFile(file);
      }
      const isNavigation = String(request.headers.accept ?? '').includes('text/html');
      if (!APP_ROUTES.test(path) && !isNavigation) return reply.callNotFound();
      if (!hasBuild || !existsSync(join(root, 'index.html'))) {
        sendPageHeaders(reply);
        return reply.status(503).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE);
      }
      return reply.sendFile('index.html');
    });
  };
}
