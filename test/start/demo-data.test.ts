import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventInputSchema } from '@audit/schema';
import { describe, expect, it } from 'vitest';
import { type BannerContext, bannerLines, exampleQueries } from '../../scripts/banner.ts';
import { DEMO_DAYS, DEMO_TENANTS, demoAnchor, demoEvents } from '../../scripts/demo-data.ts';

const DAY = 86_400_000;
const anchor = Date.parse('2026-12-02T17:00:00Z');

describe('demo data', () => {
  it('is the same events with the same ids for the same anchor, and the same ids for any anchor', () => {
    for (const t of DEMO_TENANTS) {
      const a = demoEvents(t, anchor);
      expect(demoEvents(t, anchor)).toEqual(a);
      const later = demoEvents(t, anchor + 3 * DAY);
      expect(later.map((e) => e.event_id)).toEqual(a.map((e) => e.event_id));
      expect(Date.parse(later[0]!.timestamp) - Date.parse(a[0]!.timestamp)).toBe(3 * DAY);
    }
  });

  it('is a few thousand valid events of the four kinds per tenant, inside the window, ids unique', () => {
    const all = DEMO_TENANTS.flatMap((t) => demoEvents(t, anchor));
    expect(all.length).toBeGreaterThan(3000);
    expect(all.length).toBeLessThan(8000);
    expect(new Set(all.map((e) => e.event_id)).size).toBe(all.length);
    for (const t of DEMO_TENANTS) {
      const events = demoEvents(t, anchor);
      expect(new Set(events.map((e) => e.event_type))).toEqual(
        new Set([
          'customer.account.created',
          'customer.action.performed',
          'customer.billed',
          'customer.account.deactivated',
        ]),
      );
      for (const e of events) {
        const ms = Date.parse(e.timestamp);
        expect(ms).toBeGreaterThanOrEqual(anchor - DEMO_DAYS * DAY);
        expect(ms).toBeLessThanOrEqual(anchor);
        expect(e.source.startsWith('demo.')).toBe(true);
        expect(eventInputSchema.safeParse(e).success).toBe(true);
      }
      // Every account that acts was created first; nothing happens to it after it was deactivated.
      const created = new Map<string, string>();
      const gone = new Map<string, string>();
      for (const e of events) {
        if (e.event_type === 'customer.account.created') created.set(e.user_id, e.timestamp);
        if (e.event_type === 'customer.account.deactivated') gone.set(e.resource_id, e.timestamp);
      }
      for (const e of events.filter((x) => x.event_type === 'customer.action.performed')) {
        expect(created.get(e.user_id)! < e.timestamp).toBe(true);
        const account = `acct_${t.tenant}_${e.user_id.slice(-4)}`;
        if (gone.has(account)) expect(e.timestamp < gone.get(account)!).toBe(true);
      }
    }
  });

  it('keeps the recorded anchor, renewing it only when asked and older than the window', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'demo-')), 'demo-data.json');
    const now = anchor + 60_000 * 5.5;
    expect(demoAnchor(file, now, false)).toBe(anchor + 60_000 * 5); // the current minute
    fs.writeFileSync(file, JSON.stringify({ anchor: new Date(anchor).toISOString() }));
    expect(demoAnchor(file, now, false)).toBe(anchor);
    expect(demoAnchor(file, anchor + 30 * DAY, false)).toBe(anchor);
    expect(demoAnchor(file, anchor + 30 * DAY, true)).toBe(anchor + 30 * DAY);
    expect(demoAnchor(file, anchor + 2 * DAY, true)).toBe(anchor);
    fs.rmSync(path.dirname(file), { recursive: true });
  });
});

describe('banner', () => {
  const ctx: BannerContext = {
    kafkaBrokers: ['127.0.0.1:19092'],
    topics: ['audit.events', 'audit.events.dlq'],
    clickhouseUrl: 'http://127.0.0.1:18123',
    clickhouseTcpPort: 19000,
    readerUser: 'audit_reader',
    readerPassword: 'reader-dev-password',
    readerPasswordIsDefault: true,
    services: [{ name: 'query-api', url: 'http://127.0.0.1:18081' }],
    ingestUrl: 'http://127.0.0.1:18080',
    queryUrl: 'http://127.0.0.1:18081',
    demo: { status: 'loaded', counts: { acme: 10, globex: 2000 }, anchor, seconds: 1.25 },
    writeToken: 'w.t.k',
    readToken: 'r.t.k',
  };

  it('prints the tokens and the three example queries on the configured ports', () => {
    const text = bannerLines(ctx).join('\n');
    expect(text).toContain('export TOKEN=w.t.k\nexport READ_TOKEN=r.t.k');
    expect(text).toContain(
      'Demo data: acme 10, globex 2,000 events over the 21 days before 2026-12-02T17:00:00.000Z (source demo.*), loaded in 1.3 s',
    );
    const queries = exampleQueries(ctx);
    expect(queries).toHaveLength(3);
    for (const q of queries) expect(text).toContain(`# ${q.title}\n${q.command}`);
    expect(queries[0]!.command).toContain('http://127.0.0.1:18081/events ');
    expect(queries[2]!.command).toContain(
      `-u "audit_reader:reader-dev-password" 'http://127.0.0.1:18123/?param_tenant=acme'`,
    );
  });

  it('names the password variable instead of printing a password that is not the default', () => {
    const q = exampleQueries({ ...ctx, readerPassword: 's3cret', readerPasswordIsDefault: false })[2]!;
    expect(q.command).toContain('-u "audit_reader:$CLICKHOUSE_READER_PASSWORD"');
    expect(q.command).not.toContain('s3cret');
  });
});
