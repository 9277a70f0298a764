import { describe, expect, it } from 'vitest';
import {
  findRoute,
  isUnderPrefix,
  parseRuntimeConfig,
  type Route,
  splitRequestTarget,
  upstreamTarget,
} from './routing.ts';

const route = (pathPrefix: string, upstream = 'http://127.0.0.1:9999', service = pathPrefix): Route => ({
  pathPrefix,
  upstreamUrl: new URL(upstream),
  service,
});

describe('isUnderPrefix', () => {
  it('matches the prefix itself and paths below it, at a segment boundary only', () => {
    expect(isUnderPrefix('/echo', '/echo')).toBe(true);
    expect(isUnderPrefix('/echo/', '/echo')).toBe(true);
    expect(isUnderPrefix('/echo/a/b', '/echo')).toBe(true);
    expect(isUnderPrefix('/echoes', '/echo')).toBe(false);
    expect(isUnderPrefix('/ech', '/echo')).toBe(false);
    expect(isUnderPrefix('/other/echo', '/echo')).toBe(false);
  });

  it('treats a prefix ending in "/" as a folder, and "/" as everything', () => {
    expect(isUnderPrefix('/echo/a', '/echo/')).toBe(true);
    expect(isUnderPrefix('/echo', '/echo/')).toBe(false);
    expect(isUnderPrefix('/anything', '/')).toBe(true);
    expect(isUnderPrefix('/', '/')).toBe(true);
  });
});

describe('findRoute', () => {
  const routes = [route('/'), route('/echo'), route('/echo/deep'), route('/echo/deeper')];

  it('picks the longest matching prefix, whatever the order of the routes', () => {
    expect(findRoute(routes, '/echo/deep/x')?.pathPrefix).toBe('/echo/deep');
    expect(findRoute([...routes].reverse(), '/echo/deep/x')?.pathPrefix).toBe('/echo/deep');
    expect(findRoute(routes, '/echo/deeper')?.pathPrefix).toBe('/echo/deeper');
    expect(findRoute(routes, '/echo/deepest')?.pathPrefix).toBe('/echo');
    expect(findRoute(routes, '/echo')?.pathPrefix).toBe('/echo');
    expect(findRoute(routes, '/elsewhere')?.pathPrefix).toBe('/');
  });

  it('finds nothing when no prefix matches', () => {
    expect(findRoute([route('/echo')], '/echoes')).toBeUndefined();
    expect(findRoute([], '/echo')).toBeUndefined();
  });
});

describe('splitRequestTarget', () => {
  it('separates path and query and resolves dot segments before matching', () => {
    expect(splitRequestTarget('/echo/a?x=1&y=2')).toEqual({ path: '/echo/a', search: '?x=1&y=2' });
    expect(splitRequestTarget('/echo/../admin')).toEqual({ path: '/admin', search: '' });
    expect(splitRequestTarget('/echo/%2e%2e/admin')).toEqual({ path: '/admin', search: '' });
    expect(splitRequestTarget('//echo/a')).toEqual({ path: '/echo/a', search: '' });
    expect(splitRequestTarget('http://gateway.example/echo?q')).toEqual({ path: '/echo', search: '?q' });
  });

  it('refuses targets that are not paths', () => {
    expect(splitRequestTarget('*')).toBeUndefined();
    expect(splitRequestTarget('example.com:443')).toBeUndefined();
    expect(splitRequestTarget('')).toBeUndefined();
  });
});

describe('upstreamTarget', () => {
  it('keeps the full request path and query on the upstream origin', () => {
    const target = upstreamTarget(route('/echo', 'http://127.0.0.1:9999'), '/echo/a', '?x=1');
    expect(target.href).toBe('http://127.0.0.1:9999/echo/a?x=1');
  });

  it('puts the upstream URL path in front', () => {
    const target = upstreamTarget(route('/echo', 'https://api.example/base/'), '/echo/a', '');
    expect(target.href).toBe('https://api.example/base/echo/a');
  });
});

describe('parseRuntimeConfig', () => {
  it('reads the control plane configuration', () => {
    const config = parseRuntimeConfig({
      control_plane_id: 'cp_1',
      org_id: 'org_1',
      runtime_id: 'rt_1',
      version: 3,
      routes: [{ path_prefix: '/echo', upstream_url: 'http://127.0.0.1:9999', service: 'echo' }],
    });
    expect(config).toMatchObject({
      controlPlaneId: 'cp_1',
      orgId: 'org_1',
      runtimeId: 'rt_1',
      version: 3,
      skipped: [],
    });
    expect(config.routes).toEqual([route('/echo', 'http://127.0.0.1:9999', 'echo')]);
  });

  it('leaves out malformed routes, saying why, and keeps the others', () => {
    const config = parseRuntimeConfig({
      routes: [
        { path_prefix: 'echo', upstream_url: 'http://a' },
        { path_prefix: '/a', upstream_url: 'not a url' },
        { path_prefix: '/b', upstream_url: 'ftp://files' },
        { path_prefix: '/c', upstream_url: 'http://c', service: 5 },
        'nonsense',
        { path_prefix: '/ok', upstream_url: 'http://ok' },
      ],
    });
    expect(config.routes.map((entry) => entry.pathPrefix)).toEqual(['/ok']);
    expect(config.routes[0].service).toBeUndefined();
    expect(config.skipped).toHaveLength(5);
  });

  it('throws when there is no routes array', () => {
    expect(() => parseRuntimeConfig({})).toThrow(/routes/);
    expect(() => parseRuntimeConfig(null)).toThrow(/routes/);
  });
});
