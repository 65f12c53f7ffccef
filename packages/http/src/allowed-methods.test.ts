import { describe, expect, it } from 'vitest';
import { allowedMethods } from './allowed-methods.ts';

const routes = [
  { method: 'ALL', path: '*' },
  { method: 'GET', path: '/events' },
  { method: 'POST', path: '/events' },
  { method: 'GET', path: '/events/stats' },
  { method: 'GET', path: '/events/:event_id' },
  { method: 'GET', path: '/events/:event_id/proof' },
  { method: 'GET', path: '/ui/*' },
  { method: 'POST', path: '/admin/keys/:key_id/revoke' },
];

describe('allowedMethods (the Allow of a 405)', () => {
  it('lists the methods of every route matching the path, HEAD with GET, middleware excluded', () => {
    expect(allowedMethods(routes, '/events')).toEqual(['GET', 'HEAD', 'POST']);
    expect(allowedMethods(routes, '/events/0190a1b2-c3d4-7e5f-8a9b-000000000001')).toEqual(['GET', 'HEAD']);
    expect(allowedMethods(routes, '/events/x/proof')).toEqual(['GET', 'HEAD']);
    expect(allowedMethods(routes, '/admin/keys/abc/revoke')).toEqual(['POST']);
    expect(allowedMethods(routes, '/ui/assets/a.js')).toEqual(['GET', 'HEAD']);
  });

  it('is empty for an unknown path (a 404), and treats regex characters in paths literally', () => {
    expect(allowedMethods(routes, '/nope')).toEqual([]);
    expect(allowedMethods(routes, '/events/a/b/c')).toEqual([]);
    expect(allowedMethods([{ method: 'GET', path: '/a.b' }], '/aXb')).toEqual([]);
  });
});
