import type { Hono } from 'hono';
import { expect } from 'vitest';

/**
 * For the services' tests: `/docs` is the interactive reference, and everything it loads is
 * served by the app itself (no CDN: the page works offline) with a strict CSP; `/openapi.json`
 * is what it renders. The rendering itself is checked in Chromium (test/viewer).
 */
export async function expectOfflineReference(app: Hono): Promise<void> {
  const docs = await app.request('/docs');
  expect(docs.status).toBe(200);
  expect(docs.headers.get('content-type')).toContain('text/html');
  expect(docs.headers.get('content-security-policy')).toContain("script-src 'self'");
  const html = await docs.text();
  const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
  expect(refs.length).toBeGreaterThanOrEqual(3);
  for (const ref of refs) {
    if (ref === 'data:,') continue;
    expect(ref, 'same-origin, relative').not.toMatch(/^(https?:)?\/\//);
    const res = await app.request(`/${ref}`);
    expect(res.status, ref).toBe(200);
    expect(res.headers.get('content-type'), ref).toMatch(/^text\/(css|javascript)/);
    expect(await res.text(), ref).not.toMatch(/<script[^>]+src="https?:/);
  }
  const init = await (await app.request('/docs/assets/docs-init.js')).text();
  expect(init).toContain("new URL('openapi.json'");
  expect((await app.request('/openapi.json')).status).toBe(200);
  // A known path with the wrong method is a 405 naming the methods (RFC 9110), not a 404.
  const wrong = await app.request('/openapi.json', { method: 'DELETE' });
  expect(wrong.status).toBe(405);
  expect(wrong.headers.get('allow')).toBe('GET, HEAD');
}
