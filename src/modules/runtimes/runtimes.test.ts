import { describe, expect, it } from 'vitest';
import { CONNECTED_WITHIN_MS, checkRoutes, runtimeState } from './runtimes.ts';

describe('runtimeState', () => {
  const now = new Date('2027-03-10T12:00:00.000Z');

  it('is never_connected until the runtime is heard from', () => {
    expect(runtimeState(null, 'active', now)).toBe('never_connected');
  });

  it('is connected when seen within 5 minutes, disconnected after', () => {
    expect(CONNECTED_WITHIN_MS).toBe(300_000);
    expect(runtimeState(now, 'active', now)).toBe('connected');
    expect(runtimeState(new Date(now.getTime() - 300_000), 'active', now)).toBe('connected');
    expect(runtimeState(new Date(now.getTime() - 300_001), 'active', now)).toBe('disconnected');
    expect(runtimeState(new Date(now.getTime() - 86_400_000), 'active', now)).toBe('disconnected');
  });

  it('is decommissioned whatever the last contact when the control plane is not active', () => {
    expect(runtimeState(null, 'decommissioned', now)).toBe('decommissioned');
    expect(runtimeState(now, 'decommissioned', now)).toBe('decommissioned');
    expect(runtimeState(new Date(now.getTime() - 86_400_000), 'decommissioned', now)).toBe('decommissioned');
  });
});

describe('checkRoutes', () => {
  it('accepts an empty list', () => {
    expect(checkRoutes([])).toEqual({ routes: [] });
  });

  it('keeps a given service and derives one from the first path segment otherwise', () => {
    expect(
      checkRoutes([
        { path_prefix: '/payments/v2', upstream_url: 'https://payments.internal:8443/', service: ' billing ' },
        { path_prefix: '/search/v1', upstream_url: 'http://search.internal' },
        { path_prefix: '//users', upstream_url: 'http://users.internal', service: '   ' },
        { path_prefix: '/', upstream_url: 'http://default.internal' },
      ]),
    ).toEqual({
      routes: [
        { path_prefix: '/payments/v2', upstream_url: 'https://payments.internal:8443/', service: 'billing' },
        { path_prefix: '/search/v1', upstream_url: 'http://search.internal', service: 'search' },
        { path_prefix: '//users', upstream_url: 'http://users.internal', service: 'users' },
        { path_prefix: '/', upstream_url: 'http://default.internal', service: 'default' },
      ],
    });
  });

  it('refuses a prefix without a leading slash, naming its index', () => {
    expect(
      checkRoutes([
        { path_prefix: '/ok', upstream_url: 'http://a.internal' },
        { path_prefix: 'api', upstream_url: 'http://b.internal' },
      ]),
    ).toMatchObject({ field: 'routes.1.path_prefix' });
  });

  it('refuses a prefix used twice at the second use', () => {
    expect(
      checkRoutes([
        { path_prefix: '/a', upstream_url: 'http://a.internal' },
        { path_prefix: '/b', upstream_url: 'http://b.internal' },
        { path_prefix: '/a', upstream_url: 'http://c.internal' },
      ]),
    ).toMatchObject({ field: 'routes.2.path_prefix', message: expect.stringContaining('/a') });
  });

  it('refuses upstreams that are not http(s) URLs', () => {
    for (const upstream of ['ftp://files.internal', 'not a url', 'file:///etc/passwd', 'javascript:alert(1)', '']) {
      expect(
        checkRoutes([
          { path_prefix: '/ok', upstream_url: 'http://a.internal' },
          { path_prefix: '/x', upstream_url: upstream },
        ]),
        upstream,
      ).toMatchObject({ field: 'routes.1.upstream_url' });
    }
  });

  it('reports the first problem in list order', () => {
    expect(
      checkRoutes([
        { path_prefix: '/a', upstream_url: 'gopher://a' },
        { path_prefix: 'b', upstream_url: 'http://b' },
      ]),
    ).toMatchObject({ field: 'routes.0.upstream_url' });
  });
});
