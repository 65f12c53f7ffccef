/** The parts of an OpenAPI 3.1 document the `/docs` page renders. */
export interface DocsSpec {
  openapi: string;
  info: { title: string; description: string };
  paths: Record<string, Record<string, DocsOperation>>;
}

interface DocsOperation {
  summary?: string;
  description?: string;
  parameters?: readonly unknown[];
  responses?: Record<string | number, { description: string }>;
}

/** Extra blocks below the operations, e.g. a schema or a curl example, shown preformatted. */
export interface DocsAppendix {
  title: string;
  text: string;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** Escapes, then renders `code`, **bold** and paragraph breaks of the spec's descriptions. */
function prose(s: string): string {
  return s
    .split('\n\n')
    .map(
      (p) =>
        `<p>${esc(p)
          .replace(/`([^`]+)`/g, '<code>$1</code>')
          .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')}</p>`,
    )
    .join('');
}

function operation(path: string, method: string, op: DocsOperation): string {
  const params = (op.parameters ?? []) as { name: string; in: string; description?: string }[];
  const list = params.length
    ? `<ul>${params.map((p) => `<li><code>${esc(p.name)}</code> (${esc(p.in)})${p.description ? ` — ${esc(p.description)}` : ''}</li>`).join('')}</ul>`
    : '';
  const responses = Object.entries(op.responses ?? {})
    .map(([status, r]) => `<tr><td>${esc(status)}</td><td>${esc(r.description)}</td></tr>`)
    .join('');
  return `<section><h2><span class="m">${esc(method.toUpperCase())}</span> ${esc(path)}</h2>
<p><strong>${esc(op.summary ?? '')}</strong></p>${prose(op.description ?? '')}${list}
${responses ? `<table><tr><th>Status</th><th>Meaning</th></tr>${responses}</table>` : ''}</section>`;
}

/**
 * A self-contained HTML rendering of a service's OpenAPI document for `/docs`: no scripts or
 * assets from a CDN, which is often unreachable where this runs and would need CSP exceptions.
 */
export function renderDocsPage(spec: DocsSpec, appendix: DocsAppendix[] = []): string {
  const ops = Object.entries(spec.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => operation(path, method, op)),
  );
  const extra = appendix.map((a) => `<section><h2>${esc(a.title)}</h2><pre>${esc(a.text)}</pre></section>`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(spec.info.title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
.m{background:#246;color:#fff;padding:0 .4rem;border-radius:3px}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}pre{background:#f4f4f4;padding:1rem;overflow:auto}
section{border-top:1px solid #ddd;margin-top:1.5rem}</style>
</head><body><h1>${esc(spec.info.title)}</h1>${prose(spec.info.description)}
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${esc(spec.openapi)}).</p>
${ops.join('\n')}
${extra.join('\n')}
</body></html>`;
}
