import fs from 'node:fs';
import { createBaseApp, type HttpMetrics, type Logger } from '@audit/http';
import type { Hono } from 'hono';

export interface AppDeps {
  logger: Logger;
  metrics: HttpMetrics;
  ready: () => Promise<string[]>;
  /** The witness file, when configured. */
  witnessFile?: string;
}

/**
 * Health, metrics, and GET /witness: the append-only witness file as it is (NDJSON, one signed
 * checkpoint per line), or `?tenant=` for one tenant's lines, for an external system to mirror.
 * It is served from the sealer's own file, never from ClickHouse. Internal port: no tokens.
 */
export function createApp(deps: AppDeps): Hono {
  const app = createBaseApp(deps);
  app.get('/witness', async (c) => {
    if (!deps.witnessFile)
      return c.json({ error: { code: 'not_found', message: 'no witness file configured' } }, 404);
    const tenant = c.req.query('tenant');
    let text = '';
    try {
      text = await fs.promises.readFile(deps.witnessFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (tenant !== undefined) {
      text = text
        .split('\n')
        .filter((l) => l !== '' && (JSON.parse(l) as { tenant_id: string }).tenant_id === tenant)
        .map((l) => `${l}\n`)
        .join('');
    }
    return c.body(text, 200, {
      'Content-Type': 'application/x-ndjson; charset=utf-8',
      'Cache-Control': 'no-store',
    });
  });
  return app;
}
