/**
 * A self-contained HTML rendering of the OpenAPI document for `/docs` (no external scripts:
 * CDNs are often unreachable where this runs, and a static page needs no CSP exceptions).
 */
export function renderDocsPage(spec: {
  info: { title: string; description: string };
  paths: Record<
    string,
    Record<string, { summary: string; description?: string; parameters?: readonly unknown[] }>
  >;
}): string {
  const sections = Object.entries(spec.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => {
      const params = (op.parameters ?? []) as { name: string; in: string; description?: string }[];
      const list = params.length
        ? `<ul>${params.map((p) => `<li><code>${esc(p.name)}</code> (${esc(p.in)})${p.description ? ` — ${para(p.description)}` : ''}</li>`).join('')}</ul>`
        : '';
      return `<section><h2><code>${esc(method.toUpperCase())} ${esc(path)}</code></h2><p>${esc(op.summary)}</p>${op.description ? `<p>${para(op.description)}</p>` : ''}${list}</section>`;
    }),
  );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(spec.info.title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .2em}section{border-top:1px solid #ddd;margin-top:1.5rem}</style>
</head><body><h1>${esc(spec.info.title)}</h1><p>${para(spec.info.description)}</p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>${sections.join('\n')}</body></html>`;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Escapes, then renders `code` spans and paragraph breaks of the spec's descriptions. */
function para(s: string): string {
  return esc(s)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\n\n/g, '</p><p>');
}
