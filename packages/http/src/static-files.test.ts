import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { staticFiles } from './static-files.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'static-'));
fs.mkdirSync(path.join(dir, 'assets'));
fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><p>hi</p>');
fs.writeFileSync(path.join(dir, 'assets', 'app-1a2b.js'), 'console.log(1)');
fs.writeFileSync(path.join(dir, '.secret'), 'no');
fs.writeFileSync(path.join(path.dirname(dir), 'outside.txt'), 'outside');

const app = new Hono();
staticFiles(app, {
  prefix: '/ui',
  root: dir,
  csp: "default-src 'self'",
  immutable: (rel) => rel.startsWith('assets/'),
});
const get = (p: string, method = 'GET') => app.request(p, { method });

describe('staticFiles', () => {
  it('serves files with their type, nosniff, the CSP and the right caching', async () => {
    const index = await get('/ui/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toBe("default-src 'self'");
    expect(await index.text()).toContain('hi');
    const js = await get('/ui/assets/app-1a2b.js');
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('x-content-type-options')).toBe('nosniff');
    const head = await get('/ui/assets/app-1a2b.js', 'HEAD');
    expect(head.status).toBe(200);
    expect((await get('/ui')).status).toBe(308);
  });

  it('never leaves the directory, shows no dot-files, lists no directory', async () => {
    for (const p of [
      '/ui/../outside.txt',
      '/ui/%2e%2e/outside.txt',
      '/ui/assets/%2e%2e/%2e%2e/outside.txt',
      '/ui/..%2foutside.txt',
      '/ui/..%5coutside.txt',
      '/ui/%00',
      '/ui/.secret',
      '/ui/assets',
      '/ui/assets/',
      '/ui/nope.js',
      '/ui/%E0%A4%A',
    ]) {
      const res = await get(p);
      expect(res.status, p).toBe(404);
      // (`/ui/../x` is normalised by URL parsing before routing: Hono's own 404, not ours.)
      if (res.headers.get('content-type')?.includes('json')) {
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
      }
    }
  });
});
