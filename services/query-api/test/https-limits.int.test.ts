import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ClickHouseClient } from '@audit/clickhouse';
import { createMetrics, createTenantLimits, type RunningServer, startServer } from '@audit/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminClient,
  dropTable,
  ensureTable,
  insertEvents,
  makeApp,
  makeEvent,
  newTenant,
  type TestApp,
} from './helpers.ts';

/**
 * The query API serving HTTPS itself (a certificate generated here with openssl) to real
 * clients that trust only that certificate, and its per-tenant request limit.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'query-tls-'));
const certFile = path.join(dir, 'cert.pem');
const keyFile = path.join(dir, 'key.pem');
const busy = newTenant();
const calm = newTenant();

let admin: ClickHouseClient;
let t: TestApp;
let server: RunningServer;
let ca: Buffer;

/** GET over HTTPS trusting only the generated certificate. */
function httpsGet(url: string, authorization: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: unknown }>(
    (resolve, reject) => {
      https
        .get(url, { ca, headers: { authorization } }, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () =>
            resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) }),
          );
        })
        .on('error', reject);
    },
  );
}

beforeAll(async () => {
  const subject = ['-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'];
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile];
  execFileSync('openssl', ['req', '-x509', ...key, '-out', certFile, '-days', '1', ...subject], {
    stdio: 'pipe',
  });
  ca = fs.readFileSync(certFile);
  admin = adminClient();
  await ensureTable();
  await insertEvents(admin, [makeEvent(busy, Date.now() - 60_000), makeEvent(calm, Date.now() - 60_000)]);
  const metrics = createMetrics('query-tls-test', false);
  const tenantLimits = createTenantLimits(
    {
      maxKeys: 1000,
      requests: (tenant) =>
        tenant === busy ? { ratePerSecond: 1, burst: 3 } : { ratePerSecond: 50, burst: 100 },
    },
    metrics.registry,
  );
  t = await makeApp({ tenantLimits });
  server = await startServer(t.app.fetch, { port: 0, host: '127.0.0.1', tls: { certFile, keyFile } });
});
afterAll(async () => {
  await server?.close();
  await t?.close();
  await dropTable();
  await admin?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('query API over HTTPS', () => {
  it('answers a real HTTPS client that trusts the certificate (node https and curl --cacert)', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await httpsGet(`${server.url}/events`, await t.token(calm));
    expect(r.status).toBe(200);
    expect((r.body as { events: { tenant_id: string }[] }).events.map((e) => e.tenant_id)).toEqual([calm]);
    // Asynchronously: the server runs in this process and must keep answering.
    const { stdout } = await promisify(execFile)('curl', [
      ...['-sS', '--cacert', certFile, '-o', '/dev/null', '-w', '%{http_code} %{ssl_verify_result}'],
      `${server.url}/healthz`,
    ]);
    expect(stdout).toBe('200 0');
  });

  it('refuses clients that do not trust it, and plain HTTP', async () => {
    await expect(
      new Promise((resolve, reject) => https.get(`${server.url}/healthz`, resolve).on('error', reject)),
    ).rejects.toThrow(/self-signed|self signed/);
    const plain = server.url.replace('https:', 'http:');
    await expect(fetch(`${plain}/healthz`, { signal: AbortSignal.timeout(5000) })).rejects.toThrow();
  });
});

describe('query API per-tenant request limit', () => {
  it("refuses a tenant past its burst with 429 + Retry-After while another tenant's reads succeed", async () => {
    const auth = await t.token(busy);
    const got: number[] = [];
    for (let i = 0; i < 6; i++) got.push((await httpsGet(`${server.url}/events`, auth)).status);
    expect(got.slice(0, 3)).toEqual([200, 200, 200]);
    expect(got.slice(3).filter((s) => s === 429).length).toBeGreaterThanOrEqual(2);
    const refused = await httpsGet(`${server.url}/events/stats`, auth);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect((refused.body as { error: { code: string } }).error.code).toBe('rate_limited');
    const other = await t.token(calm);
    for (let i = 0; i < 10; i++) expect((await httpsGet(`${server.url}/events`, other)).status).toBe(200);
  });
});
