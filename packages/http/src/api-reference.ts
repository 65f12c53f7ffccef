import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import { staticFiles } from './static-files.ts';

/**
 * Swagger UI's files: beside the bundle in the service image (deploy/docker/bundle.sh copies
 * them to ../swagger-ui/), else from the swagger-ui-dist package.
 */
function swaggerDir(): string {
  const bundled = fileURLToPath(new URL('../swagger-ui/', import.meta.url));
  if (fs.existsSync(bundled)) return bundled;
  return path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

/** The page's only script of its own: a file, not inline, so the CSP needs no 'unsafe-inline' for scripts. */
const INIT_JS = `window.ui = SwaggerUIBundle({
  url: new URL('openapi.json', window.location.href).href,
  dom_id: '#reference',
  deepLinking: true,
  persistAuthorization: false,
  validatorUrl: 'none',
});
`;
/** Swagger UI styles its widgets inline and draws icons as data: images; nothing leaves the origin. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const page = (title: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)}</title>
<link rel="stylesheet" href="docs/assets/swagger-ui.css">
<link rel="icon" href="data:,">
</head>
<body>
<main id="reference"></main>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script src="docs/assets/docs-init.js"></script>
</body>
</html>
`;

/**
 * `/openapi.json` and `/docs`: the interactive reference (Swagger UI, bundled from
 * swagger-ui-dist and served from here: no CDN, works offline) with try-it against the running
 * API. Paths are relative, so it works behind a path prefix and over HTTPS alike.
 */
export function apiReference(app: Hono, doc: { info: { title: string } }): void {
  const html = page(doc.info.title);
  app.get('/openapi.json', (c) => c.json(doc));
  app.get('/docs', (c) => {
    c.header('Content-Security-Policy', CSP);
    c.header('Cache-Control', 'no-cache');
    return c.html(html);
  });
  app.get('/docs/assets/docs-init.js', (c) => {
    c.header('Content-Type', 'text/javascript; charset=utf-8');
    c.header('Cache-Control', 'no-cache');
    c.header('X-Content-Type-Options', 'nosniff');
    return c.body(INIT_JS);
  });
  staticFiles(app, {
    prefix: '/docs/assets',
    root: swaggerDir(),
    only: ['swagger-ui.css', 'swagger-ui-bundle.js'],
    csp: CSP,
  });
}
