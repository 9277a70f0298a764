import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestInstance, type TestInstance } from '../helpers/instance.ts';

let t: TestInstance;
beforeAll(async () => {
  t = await createTestInstance();
});
afterAll(async () => {
  await t.close();
});

/** GET that follows redirects within the app, as a browser would. */
async function getFollowing(url: string) {
  let current = url;
  for (let hops = 0; hops < 5; hops++) {
    const response = await t.app.inject({ method: 'GET', url: current });
    const location = response.headers.location;
    if (response.statusCode < 300 || response.statusCode >= 400 || typeof location !== 'string') return response;
    current = new URL(location, `http://localhost${current}`).pathname;
  }
  throw new Error(`too many redirects from ${url}`);
}

describe('operations', () => {
  it('answers liveness and readiness', async () => {
    const health = await t.call('GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
    const ready = await t.call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
  });

  it('serves an OpenAPI 3 document with the public paths', async () => {
    const response = await t.call('GET', '/openapi.json');
    expect(response.status).toBe(200);
    expect(String(response.headers['content-type'])).toContain('application/json');
    expect(response.body.openapi).toMatch(/^3\./);
    expect(response.body.info.title).toEqual(expect.any(String));
    const paths = Object.keys(response.body.paths);
    for (const path of ['/v1/signup', '/v1/auth/login', '/v1/me', '/v1/orgs/{org_id}']) expect(paths).toContain(path);
    expect(response.body.paths['/v1/signup'].post).toBeDefined();
    expect(response.body.paths['/v1/me'].get).toBeDefined();
    // The document itself is not listed as an operation.
    expect(paths).not.toContain('/openapi.json');
  });

  it('serves the browsable documentation at /docs', async () => {
    const response = await getFollowing('/docs');
    expect(response.statusCode).toBe(200);
    expect(String(response.headers['content-type'])).toContain('text/html');
    expect(response.body.toLowerCase()).toContain('<html');
    expect(response.body.toLowerCase()).toContain('swagger');
  });

  it('answers an unknown route with a 404 in the error shape', async () => {
    for (const [method, url] of [
      ['GET', '/nope'],
      ['GET', '/v1/does-not-exist?x=1'],
      ['POST', '/v1/does-not-exist'],
      ['DELETE', '/v1/signup'],
    ] as const) {
      const response = await t.call(method, url, method === 'POST' ? { body: {} } : {});
      expect(response.status, `${method} ${url}`).toBe(404);
      expect(response.body).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
      expect(response.body.error.message).not.toContain('?x=1');
    }
  });
});
