import fs from 'node:fs/promises';
import path from 'node:path';
import type { Context, Hono } from 'hono';
import { ApiError, errorResponse } from './errors.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticFilesOptions {
  /** URL prefix, e.g. `/ui` (files are served under `/ui/…`). */
  prefix: string;
  /** The directory served. */
  root: string;
  /** The file for `<prefix>/` (default index.html). */
  index?: string;
  /** Only these relative paths are served (e.g. two files of a package); default: all. */
  only?: readonly string[];
  /** Content-Security-Policy sent with every file. */
  csp?: string;
  /** Paths (relative) that never change under their name, e.g. Vite's hashed `assets/`: cached for a year. */
  immutable?: (rel: string) => boolean;
}

/**
 * Serves a directory's files under a prefix: one way for the viewer (`/ui`) and the API
 * reference's assets (`/docs/assets`). Refuses anything that could leave the directory (`..`,
 * encoded or not, backslashes, NUL, dot-files) and lists no directory; unknown files are the
 * usual JSON 404. GET also answers HEAD (Hono).
 */
export function staticFiles(app: Hono, o: StaticFilesOptions): void {
  const root = path.resolve(o.root);
  const only = o.only ? new Set(o.only) : undefined;
  const serve = async (c: Context) => {
    let rel: string;
    try {
      rel = decodeURIComponent(c.req.path.slice(o.prefix.length + 1));
    } catch {
      rel = '\0';
    }
    if (rel === '') rel = o.index ?? 'index.html';
    const safe =
      !/[\\\0]/.test(rel) &&
      rel.split('/').every((seg) => seg !== '' && !seg.startsWith('.')) &&
      (!only || only.has(rel));
    const file = path.resolve(root, rel);
    const notFound = () => errorResponse(c, new ApiError(404, 'not_found', `no file ${c.req.path}`));
    if (!safe || !file.startsWith(root + path.sep)) return notFound();
    let body: Buffer;
    try {
      body = await fs.readFile(file);
    } catch {
      return notFound();
    }
    c.header('Content-Type', TYPES[path.extname(file)] ?? 'application/octet-stream');
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Cache-Control', o.immutable?.(rel) ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (o.csp) c.header('Content-Security-Policy', o.csp);
    return c.body(new Uint8Array(body));
  };
  app.get(o.prefix, (c) => c.redirect(`${o.prefix}/`, 308));
  app.get(`${o.prefix}/*`, serve);
}
