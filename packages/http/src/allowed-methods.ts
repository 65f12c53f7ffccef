/** A route as Hono lists it in `app.routes`. */
export interface RouteLike {
  method: string;
  path: string;
}

const cache = new Map<string, RegExp>();

/** Hono's path syntax as a RegExp: `:name` (optionally `:name{re}`) is one segment, `*` the rest. */
function pattern(routePath: string): RegExp {
  let re = cache.get(routePath);
  if (!re) {
    const body = routePath
      .split('/')
      .map((seg) => {
        if (seg === '*') return '.*';
        if (seg.startsWith(':')) return seg.endsWith('?') ? '[^/]*' : '[^/]+';
        return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    re = new RegExp(`^${body}/?$`);
    cache.set(routePath, re);
  }
  return re;
}

/**
 * The methods some route answers on `path` (middleware, registered as ALL, does not count), HEAD
 * wherever GET is: what a 405's `Allow` lists (RFC 9110 §15.5.6).
 */
export function allowedMethods(routes: readonly RouteLike[], path: string): string[] {
  const out = new Set<string>();
  for (const r of routes) {
    if (r.method === 'ALL') continue;
    if (pattern(r.path).test(path)) out.add(r.method);
  }
  if (out.has('GET')) out.add('HEAD');
  return [...out].sort();
}
