import { createClickHouse } from '@audit/clickhouse';
import { loadConfig, stackSchema } from '@audit/config';
import { launchChromium } from '@audit/stack/chromium';
import { loadGeneratedTenant } from '../lib/generated-tenant.ts';
import { latencySummary, log, type Row, ratio } from '../lib/report.ts';
import { startService } from '../lib/services.ts';
import { bearer, type StageContext, type StageResult } from './context.ts';

const DAY = 86_400_000;

/**
 * The viewer on a tenant of 1,000,000 events (generated over 30 days): in Debian's Chromium,
 * the time from navigation start to the first rows and the histogram on screen (measured in the
 * page, performance.now()), cold page each run, for the default range (24 h) and for the whole
 * 30 days. Ceiling, same run: the same two API calls (first page + histogram) from Node, in
 * parallel, without a browser — so the ratio is what the page itself adds.
 */
export async function viewerStage(ctx: StageContext): Promise<StageResult> {
  const events = ctx.events ?? 1_000_000;
  const runs = ctx.quick ? 3 : 10;
  const tenant = `bench_v_${events}`;
  const end = Math.floor(Date.now() / 60_000) * 60_000;
  const cfg = loadConfig(stackSchema);
  const admin = createClickHouse(cfg, 'admin', { requestTimeoutMs: 600_000 });
  await loadGeneratedTenant(admin, tenant, events, end, 30 * DAY);
  await admin.close();

  const api = await startService('query-api', {}, { logDir: ctx.logDir });
  const token = await bearer(tenant, 'events:read');
  const minted = await fetch(`${api.url}/viewer/tokens`, {
    method: 'POST',
    headers: { authorization: token, 'content-type': 'application/json' },
    body: JSON.stringify({ subject: 'bench-viewer', ttl_seconds: 3600 }),
  });
  if (minted.status !== 201) throw new Error(`POST /viewer/tokens: ${minted.status} ${await minted.text()}`);
  const viewerToken = ((await minted.json()) as { token: string }).token;
  const browser = await launchChromium();
  const rows: Row[] = [];
  try {
    for (const [label, range, interval, days] of [
      ['24h', 'range=24h', 'minute', 1],
      ['30d', 'range=30d', 'day', 30],
    ] as const) {
      const page_ms: number[] = [];
      const api_ms: number[] = [];
      let shown = 0;
      for (let i = 0; i <= runs; i++) {
        // The ceiling: the page's two first requests, straight at the API.
        const to = new Date().toISOString();
        const from = new Date(Date.now() - days * DAY).toISOString();
        const q = `from=${from}&to=${to}`;
        const t0 = performance.now();
        await Promise.all(
          [`/events?${q}&limit=100`, `/events/stats?${q}&interval=${interval}`].map(async (p) => {
            const r = await fetch(`${api.url}${p}`, { headers: { authorization: `Bearer ${viewerToken}` } });
            if (!r.ok) throw new Error(`${p}: ${r.status}`);
            await r.arrayBuffer();
          }),
        );
        const direct = performance.now() - t0;

        // bypassCSP: the probe below is a string evaluated in the page (the page's CSP refuses eval).
        const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, bypassCSP: true });
        const page = await context.newPage();
        await page.goto(`${api.url}/ui/?${range}#token=${viewerToken}`);
        // A string, evaluated in the page every frame (this file compiles without DOM typings).
        const handle = await page.waitForFunction(
          `(() => {
            const root = document.querySelector('audit-viewer')?.shadowRoot;
            const shown = root ? root.querySelectorAll('.event-list [role=option]').length : 0;
            return shown > 0 && root.querySelector('.histogram canvas') ? [performance.now(), shown] : false;
          })()`,
          undefined,
          { polling: 'raf', timeout: 30_000 },
        );
        const [ms, n] = (await handle.jsonValue()) as [number, number];
        await context.close();
        if (i === 0) continue; // warm-up: the server's first query of a shape
        page_ms.push(ms);
        api_ms.push(direct);
        shown = n;
      }
      const page = latencySummary(page_ms);
      const direct = latencySummary(api_ms);
      log(
        `viewer ${label}: first rows + histogram p50 ${page.p50_ms} ms (API calls alone ${direct.p50_ms} ms)`,
      );
      rows.push({
        stage: 'viewer',
        case: `first rows + histogram, ${label} of ${events} events`,
        rows_shown: shown,
        page_p50_ms: page.p50_ms,
        page_p99_ms: page.p99_ms,
        page_max_ms: Math.round(Math.max(...page_ms)),
        api_p50_ms: direct.p50_ms,
        vs_api_p50: ratio(direct.p50_ms, page.p50_ms),
      });
    }
  } finally {
    await browser.close();
    await api.stop();
  }
  return {
    rows,
    params: { events, runs, tenant },
    notes: [
      'page_*: navigation start → first rows and the histogram canvas on screen, in Chromium (cold context each run)',
      'api_p50_ms: the same first page + histogram requests from Node in parallel (ceiling); vs_api_p50 = api / page',
    ],
  };
}
