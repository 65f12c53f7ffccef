import fs from 'node:fs';
import path from 'node:path';
import type { Hono } from 'hono';

/**
 * `/ui/`: the viewer's built page and `/ui/audit-viewer.js` for host pages that embed the
 * element. TEMPORARY file server until the shared static-files helper lands.
 */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};

export function uiRoutes(app: Hono, distDir: string): void {
  const CSP =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data: blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
  app.get('/ui', (c) => c.redirect('/ui/', 308));
  app.get('/ui/*', (c) => {
    const rel = decodeURIComponent(c.req.path.slice('/ui/'.length)) || 'index.html';
    const file = path.join(distDir, rel);
    if (!file.startsWith(distDir) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      return c.json({ error: { code: 'not_found', message: `no viewer asset ${rel}` } }, 404);
    }
    c.header('Content-Type', TYPES[path.extname(file)] ?? 'application/octet-stream');
    c.header('Content-Security-Policy', CSP);
    c.header('X-Content-Type-Options', 'nosniff');
    return c.body(fs.readFileSync(file));
  });
}
