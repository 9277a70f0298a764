import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webPages } from './web.ts';

// The pages' server on a small built app of its own: what is the app, what is a file, and what stays
// the API's JSON 404.

let dist: string;
const INDEX = '<!doctype html><html><body><div id="root"></div></body></html>';

async function appOn(distDir: string) {
  const app = Fastify();
  app.setNotFoundHandler((_request, reply) => reply.status(404).send({ error: { code: 'not_found', message: 'No.' } }));
  app.get('/v1/plans', async () => ({ data: [] }));
  await app.register(webPages({ distDir }));
  return app;
}

beforeAll(async () => {
  dist = await mkdtemp(join(tmpdir(), 'tierline-web-'));
  await mkdir(join(dist, 'assets'));
  await writeFile(join(dist, 'index.html'), INDEX);
  const script = `console.log(${JSON.stringify('x'.repeat(2000))});`;
  await writeFile(join(dist, 'assets', 'index-abc123.js'), script);
  await writeFile(join(dist, 'assets', 'index-abc123.js.br'), brotliCompressSync(script));
  await writeFile(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"></svg>');
});

afterAll(async () => {
  await rm(dist, { recursive: true, force: true });
});

describe('web pages', () => {
  it('answers the app’s routes with index.html, never cached, with a content security policy', async () => {
    const app = await appOn(dist);
    for (const url of ['/', '/login', '/settings/billing', '/settings/billing/plans?x=1', '/team', '/support']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type'], url).toContain('text/html');
      expect(response.body, url).toBe(INDEX);
      expect(response.headers['cache-control'], url).toBe('no-cache');
      expect(response.headers['content-security-policy'], url).toContain("script-src 'self'");
    }
  });

  it('gives the app to a browser navigating anywhere else, and the JSON 404 to other clients', async () => {
    const app = await appOn(dist);
    const navigation = await app.inject({ method: 'GET', url: '/somewhere/else', headers: { accept: 'text/html' } });
    expect(navigation.statusCode).toBe(200);
    expect(navigation.body).toBe(INDEX);
    const client = await app.inject({ method: 'GET', url: '/somewhere/else', headers: { accept: 'application/json' } });
    expect(client.statusCode).toBe(404);
    expect(client.json().error.code).toBe('not_found');
  });

  it('never answers the API, its reference or operations paths with the app', async () => {
    const app = await appOn(dist);
    expect((await app.inject({ method: 'GET', url: '/v1/plans' })).json()).toEqual({ data: [] });
    for (const url of ['/v1/nope', '/v1', '/docs/nope', '/openapi.json', '/healthz', '/readyz', '/metrics']) {
      const response = await app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
      expect(response.statusCode, url).toBe(404);
      expect(response.json().error.code, url).toBe('not_found');
    }
  });

  it('serves built files, hashed assets for a year and compressed when accepted; a missing file is a 404', async () => {
    const app = await appOn(dist);
    const asset = await app.inject({
      method: 'GET',
      url: '/assets/index-abc123.js',
      headers: { 'accept-encoding': 'br, gzip' },
    });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-encoding']).toBe('br');
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const icon = await app.inject({ method: 'GET', url: '/favicon.svg' });
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['cache-control']).toBe('no-cache');
    for (const url of ['/assets/index-old.js', '/robots.txt', '/.env']) {
      const response = await app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
      expect(response.statusCode, url).toBe(404);
    }
    for (const url of ['/..%2f..%2fpackage.json', '/assets/..%2f..%2f..%2fetc%2fpasswd.txt', '/%E0%A4%A.js']) {
      expect((await app.inject({ method: 'GET', url })).statusCode, url).not.toBe(200);
    }
  });

  it('still starts without a build and says so on the pages', async () => {
    const app = await appOn(join(dist, 'not-built'));
    const page = await app.inject({ method: 'GET', url: '/settings/billing' });
    expect(page.statusCode).toBe(503);
    expect(page.body).toContain('web pages are not built');
    expect((await app.inject({ method: 'GET', url: '/v1/plans' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/favicon.svg' })).statusCode).toBe(404);
  });
});
