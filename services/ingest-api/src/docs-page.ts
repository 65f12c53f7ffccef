import type { OpenApiDocument } from './openapi.ts';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** Minimal markdown for descriptions: paragraphs, `code` and **bold**. */
function prose(text: string): string {
  return text
    .split('\n\n')
    .map(
      (p) =>
        `<p>${escapeHtml(p)
          .replace(/`([^`]+)`/g, '<code>$1</code>')
          .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')}</p>`,
    )
    .join('');
}

/**
 * A self-contained HTML rendering of the OpenAPI document (no scripts or assets from a CDN:
 * the page must work where only this service is reachable).
 */
export function docsPage(doc: OpenApiDocument): string {
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods as Record<string, Record<string, unknown>>).map(([method, op]) => {
      const responses = Object.entries((op.responses ?? {}) as Record<string, { description: string }>)
        .map(([status, r]) => `<tr><td>${status}</td><td>${escapeHtml(r.description)}</td></tr>`)
        .join('');
      return `<section><h2><span class="m">${method.toUpperCase()}</span> ${escapeHtml(path)}</h2>
<p><strong>${escapeHtml(String(op.summary ?? ''))}</strong></p>${prose(String(op.description ?? ''))}
<table><tr><th>Status</th><th>Meaning</th></tr>${responses}</table></section>`;
    }),
  );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(doc.info.title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
.m{background:#246;color:#fff;padding:0 .4rem;border-radius:3px}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}pre{background:#f4f4f4;padding:1rem;overflow:auto}</style>
</head><body><h1>${escapeHtml(doc.info.title)}</h1>${prose(doc.info.description)}
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${doc.openapi}).</p>
${ops.join('\n')}
<section><h2>Event schema</h2><pre>${escapeHtml(JSON.stringify(doc.components.schemas.Event, null, 2))}</pre></section>
<section><h2>Example</h2><pre>${escapeHtml(`curl -X POST http://localhost:8080/login -H 'Content-Type: application/json' \\
  -d '{"username":"acme-producer","password":"devpass"}'
curl -X POST http://localhost:8080/events -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \\
  -d '{"event_type":"customer.account.created","timestamp":"2026-01-02T03:04:05Z","user_id":"u-1","event_details":{"plan":"pro"}}'`)}</pre></section>
</body></html>`;
}
