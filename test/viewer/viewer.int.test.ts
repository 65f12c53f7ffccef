import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { uuidv7 } from '@audit/schema';
import { type Browser, type BrowserContext, launchChromium, type Page } from '@audit/stack/chromium';
import axe from 'axe-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, type Pipeline, postEvents, startPipeline, waitForCount } from '../e2e/pipeline.ts';

/**
 * The viewer in a real headless Chromium against the real services: a viewer token opens the
 * /ui page, a details filter with an operator gives the same count, histogram and rows as the
 * API, an event opens with its proof verified in the browser, the export is byte-equal to the
 * API's, live tail shows a new event, and a pinned token cannot widen its filter. Every screen
 * is checked with axe-core and photographed (light and dark) into docs/viewer/.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shots = path.join(root, 'docs', 'viewer');
const N = 240;
const FROM = new Date(Date.UTC(2026, 10, 1)).toISOString();
const TO = new Date(Date.UTC(2026, 10, 1) + 10 * 60_000).toISOString();

let p: Pipeline;
let browser: Browser;
let context: BrowserContext;

async function api<T>(
  pathAndQuery: string,
  token = p.readToken,
  init: RequestInit = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${p.query.url}${pathAndQuery}`, {
    ...init,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      ...(init.headers ?? {}),
    },
  });
  const text = await res.text();
  return {
    status: res.status,
    body: (text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T,
  };
}

async function mintViewer(subject: string, filters?: Record<string, string>): Promise<string> {
  const r = await api<{ token: string }>('/viewer/tokens', p.readToken, {
    method: 'POST',
    body: JSON.stringify({ subject, ...(filters ? { filters } : {}) }),
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.token;
}

/** No axe-core violation on what is on screen now (shadow DOM included). */
async function expectAccessible(page: Page, screen: string) {
  // Through DevTools, not a <script>: the page's CSP (script-src 'self') stays in force.
  await page.evaluate(axe.source);
  // A string, evaluated in the page: this file compiles without the DOM typings.
  const violations = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) =>
    r.violations.map((v) => v.id + ': ' + v.help + ' (' + v.nodes.map((n) => n.target.join(' ')).join('; ') + ')'))`)) as string[];
  expect(violations, `axe on ${screen}`).toEqual([]);
}

/** The screen in both themes, checked by axe in each, saved as docs/viewer/<name>-<theme>.png. */
async function photograph(page: Page, name: string) {
  for (const theme of ['light', 'dark'] as const) {
    await page.evaluate(`document.querySelector('audit-viewer').setAttribute('theme', '${theme}')`);
    await page.waitForTimeout(150);
    await expectAccessible(page, `${name} (${theme})`);
    await page.screenshot({ path: path.join(shots, `${name}-${theme}.png`) });
  }
}

const countOf = async (page: Page) => Number(await page.locator('.count').getAttribute('data-count'));

beforeAll(async () => {
  fs.mkdirSync(shots, { recursive: true });
  p = await startPipeline('viewer');
  const events = Array.from({ length: N }, (_, i) => makeEvent(i, 'viewer'));
  for (let i = 0; i < N; i += 80)
    expect((await postEvents(p, events.slice(i, i + 80), 'array')).status).toBe(202);
  expect(await waitForCount(p, N, `from=${FROM}&to=${TO}`)).toBe(N);
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
}, 300_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await p?.stop();
});

describe('the viewer in Chromium', () => {
  it('asks for a token first', async () => {
    const page = await context.newPage();
    await page.goto(`${p.query.url}/ui/`);
    await expect.poll(() => page.getByRole('heading', { name: 'Audit trail viewer' }).count()).toBe(1);
    await photograph(page, 'login');
    await page.close();
  });

  it('filters by a details path with an operator: count, histogram and rows match the API', async () => {
    const token = await mintViewer('alice@example.com');
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${p.query.url}/ui/?from=${FROM}&to=${TO}#token=${token}`);
    await expect.poll(() => countOf(page), { timeout: 20_000 }).toBe(N);

    await page.getByLabel('Field').fill('details.amount');
    await page.getByLabel('Operator').selectOption('gte');
    await page.getByLabel('Value', { exact: true }).fill('12.5');
    await page.getByRole('button', { name: 'Add filter' }).click();

    const q = `from=${encodeURIComponent(FROM)}&to=${encodeURIComponent(TO)}&details.amount[gte]=12.5`;
    const want = await api<{ count: number }>(`/events/stats?${q}`);
    expect(want.body.count).toBeGreaterThan(0);
    expect(want.body.count).toBeLessThan(N);
    await expect.poll(() => countOf(page), { timeout: 20_000 }).toBe(want.body.count);
    // The histogram's bars add up to the same count.
    const chart = await page.locator('.histogram [role=img]').getAttribute('aria-label');
    expect(chart).toContain(`${want.body.count} events`);
    // The first rows are the API's first page, in order.
    const page1 = await api<{ events: { event_id: string }[] }>(`/events?${q}&limit=10`);
    const shown = await page
      .locator('.event-list [role=option]')
      .evaluateAll((els) => els.slice(0, 10).map((e) => e.getAttribute('data-event-id')));
    expect(shown).toEqual(page1.body.events.map((e) => e.event_id));
    // The URL holds the view: reopening it shows the same.
    expect(decodeURIComponent(new URL(page.url()).search)).toContain('details.amount[gte]=12.5');
    await photograph(page, 'results');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('opens an event with its proof verified in the browser, and exports exactly the filter', async () => {
    const token = await mintViewer('alice@example.com');
    const page = await context.newPage();
    const q = `from=${encodeURIComponent(FROM)}&to=${encodeURIComponent(TO)}&event_type[eq]=customer.billed`;
    await page.goto(`${p.query.url}/ui/?${q}#token=${token}`);
    const want = await api<{ count: number }>(`/events/stats?${q}`);
    await expect.poll(() => countOf(page), { timeout: 20_000 }).toBe(want.body.count);

    const first = page.locator('.event-list [role=option]').first();
    const id = await first.getAttribute('data-event-id');
    await first.click();
    const drawer = page.getByRole('dialog');
    await expect.poll(() => drawer.locator('pre').textContent()).toContain(`"event_id": "${id}"`);
    // Sealed within a few seconds; the browser checks the proof against the signed checkpoint.
    await expect
      .poll(
        async () => {
          const state = await drawer.locator('[data-verification]').getAttribute('data-verification');
          if (state === 'pending') {
            await page.getByRole('button', { name: /Close event/ }).click();
            await first.click();
          }
          return state;
        },
        { timeout: 60_000, interval: 2000 },
      )
      .toBe('ok');
    expect(page.url()).toContain(`event=${id}`);
    await photograph(page, 'event');

    // The permalink reopens the same event in a fresh tab.
    const again = await context.newPage();
    await again.goto(`${page.url()}#token=${token}`);
    await expect
      .poll(() => again.getByRole('dialog').locator('pre').textContent(), { timeout: 20_000 })
      .toContain(id);
    await again.close();

    for (const format of ['csv', 'ndjson'] as const) {
      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: `Export ${format.toUpperCase()}` }).click();
      const file = await (await download).path();
      const api_ = await fetch(`${p.query.url}/events/export?${q}&format=${format}`, {
        headers: { authorization: `Bearer ${p.readToken}` },
      });
      const expected = await api_.text();
      expect(expected.split('\n').filter(Boolean).length).toBe(want.body.count + (format === 'csv' ? 1 : 0));
      expect(fs.readFileSync(file, 'utf8')).toBe(expected);
    }
    await page.close();
  });

  it('shows a new event in live tail', async () => {
    const token = await mintViewer('alice@example.com');
    const page = await context.newPage();
    await page.goto(`${p.query.url}/ui/?range=15m#token=${token}`);
    await page.getByText('Live tail').click();
    const fresh = { ...makeEvent(7, 'viewer-tail'), event_id: uuidv7(), timestamp: new Date().toISOString() };
    expect((await postEvents(p, [fresh], 'single')).status).toBe(202);
    await expect
      .poll(() => page.locator(`[data-event-id="${fresh.event_id}"]`).count(), { timeout: 60_000 })
      .toBe(1);
    await page.close();
  });

  it('works from the keyboard, and zooms the range by dragging across the histogram', async () => {
    const token = await mintViewer('alice@example.com');
    const page = await context.newPage();
    await page.goto(`${p.query.url}/ui/?from=${FROM}&to=${TO}#token=${token}`);
    await expect.poll(() => countOf(page), { timeout: 20_000 }).toBe(N);
    // `/` focuses the filter field; in the list, ↓ ↓ Enter opens the third event; Esc closes it.
    await page.locator('body').press('/');
    expect(await page.evaluate(`document.querySelector('audit-viewer').shadowRoot.activeElement?.name`)).toBe(
      'field',
    );
    const list = page.getByRole('listbox');
    await list.focus();
    await list.press('ArrowDown');
    await list.press('j');
    await list.press('Enter');
    const third = await page.locator('.event-list [role=option]').nth(2).getAttribute('data-event-id');
    await expect.poll(() => page.getByRole('dialog').locator('pre').textContent()).toContain(`${third}`);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    // Dragging over the first half of the chart narrows the range to it: fewer events, a fixed range in the URL.
    const box = (await page.locator('.histogram .u-over').boundingBox())!;
    await page.mouse.move(box.x + 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => countOf(page), { timeout: 20_000 }).toBeLessThan(N);
    const url = new URL(page.url());
    const from = Date.parse(url.searchParams.get('from')!);
    const to = Date.parse(url.searchParams.get('to')!);
    expect(to - from).toBeLessThan(Date.parse(TO) - Date.parse(FROM));
    const want = await api<{ count: number }>(
      `/events/stats?from=${encodeURIComponent(url.searchParams.get('from')!)}&to=${encodeURIComponent(url.searchParams.get('to')!)}`,
    );
    await expect.poll(() => countOf(page)).toBe(want.body.count);
    await page.close();
  });

  it('says what to do when nothing matches', async () => {
    const token = await mintViewer('alice@example.com');
    const page = await context.newPage();
    await page.goto(`${p.query.url}/ui/?from=${FROM}&to=${TO}&event_type[eq]=no.such.type#token=${token}`);
    await expect.poll(() => page.getByText('No events match.').count(), { timeout: 20_000 }).toBe(1);
    await photograph(page, 'empty');
    await page.close();
  });

  it('cannot widen a pinned filter', async () => {
    const pinnedUser = 'viewer-user-5';
    const token = await mintViewer('bob@example.com', { 'user_id[eq]': pinnedUser });
    const range = `from=${encodeURIComponent(FROM)}&to=${encodeURIComponent(TO)}`;
    const want = await api<{ count: number }>(`/events/stats?${range}&user_id[eq]=${pinnedUser}`);
    expect(want.body.count).toBeGreaterThan(0);
    const page = await context.newPage();
    await page.goto(`${p.query.url}/ui/?${range}#token=${token}`);
    await expect.poll(() => countOf(page), { timeout: 20_000 }).toBe(want.body.count);
    // The pin is shown and has no remove button.
    const pin = page.locator('.chip.pinned');
    await expect.poll(() => pin.textContent()).toContain(pinnedUser);
    expect(await pin.locator('button').count()).toBe(0);
    const users = await page.locator('.event-list [role=option] .actor').allTextContents();
    expect(new Set(users)).toEqual(new Set([pinnedUser]));
    // Asking for another actor (through the filter bar, then by editing the URL) never shows more.
    await page.getByLabel('Field').fill('user_id');
    await page.getByLabel('Value', { exact: true }).fill('viewer-user-6');
    await page.getByRole('button', { name: 'Add filter' }).click();
    await expect.poll(() => countOf(page), { timeout: 20_000 }).toBe(0);
    await page.goto(`${p.query.url}/ui/?${range}&user_id[ne]=${pinnedUser}#token=${token}`);
    await expect.poll(() => page.getByText('No events match.').count(), { timeout: 20_000 }).toBe(1);
    // The token itself refuses what the viewer would need to widen it.
    const r = await api('/viewer/tokens', token, { method: 'POST', body: JSON.stringify({ subject: 'x' }) });
    expect(r.status).toBe(403);
    const direct = await api<{ count: number }>(`/events/stats?${range}&user_id[eq]=viewer-user-6`, token);
    expect(direct.body.count).toBe(0);
    await page.close();
  });

  it('serves the interactive API reference offline, with try-it against the running API', async () => {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('requestfailed', (r) => problems.push(`${r.url()} failed`));
    const external: string[] = [];
    page.on(
      'request',
      (r) => !r.url().startsWith(p.query.url) && !r.url().startsWith('data:') && external.push(r.url()),
    );
    await page.goto(`${p.query.url}/docs`);
    await expect.poll(() => page.locator('.opblock').count(), { timeout: 20_000 }).toBeGreaterThan(15);
    const health = page.locator('#operations-default-get_healthz, .opblock-get:has-text("/healthz")').first();
    await health.locator('.opblock-summary').click();
    await health.getByRole('button', { name: 'Try it out' }).click();
    await health.getByRole('button', { name: 'Execute' }).click();
    await expect
      .poll(() => health.locator('.live-responses-table tbody .response-col_status').first().textContent(), {
        timeout: 20_000,
      })
      .toContain('200');
    await page.screenshot({ path: path.join(shots, 'api-reference.png') });
    expect(external).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
    // A known path with another method: 405 and Allow, not 404.
    const res = await fetch(`${p.query.url}/events/0190a1b2-c3d4-7e5f-8a9b-000000000001`, {
      method: 'DELETE',
    });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });
});
