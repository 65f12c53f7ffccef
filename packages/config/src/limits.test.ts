import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { eventRateLimitSchema, limitSettings, rateLimitSchema } from './limits.ts';
import { ConfigError, loadConfig } from './load.ts';
import { checkTlsPair, tlsFiles, tlsSchema } from './tls.ts';

const schema = rateLimitSchema({ requestsPerSecond: 1000, requestsBurst: 2000 }).extend(
  eventRateLimitSchema.shape,
);
const settings = (env: Record<string, string>) => limitSettings(loadConfig(schema, env));

describe('limit settings', () => {
  it('defaults apply to every tenant; an override replaces only what it names', () => {
    const s = settings({
      RATE_LIMIT_OVERRIDES: JSON.stringify({
        acme: { requestsPerSecond: 5 },
        globex: { eventsBurst: 50_000 },
      }),
    });
    expect(s.requests('other')).toEqual({ ratePerSecond: 1000, burst: 2000 });
    expect(s.events!('other')).toEqual({ ratePerSecond: 10_000, burst: 20_000 });
    // An overridden rate without a burst: two seconds of it.
    expect(s.requests('acme')).toEqual({ ratePerSecond: 5, burst: 10 });
    expect(s.events!('acme')).toEqual({ ratePerSecond: 10_000, burst: 20_000 });
    expect(s.events!('globex')).toEqual({ ratePerSecond: 10_000, burst: 50_000 });
  });

  it('divides rates by the replicas but not bursts; failure budgets both (rounded up)', () => {
    const s = settings({ RATE_LIMIT_REPLICAS: '4', CREDENTIAL_FAILURES_PER_USER: '10' });
    expect(s.requests('t')).toEqual({ ratePerSecond: 250, burst: 2000 });
    expect(s.events!('t')).toEqual({ ratePerSecond: 2500, burst: 20_000 });
    expect(s.credentials.perUser).toEqual({ ratePerSecond: 10 / 4 / 900, burst: 3 });
    expect(s.credentials.perIp).toEqual({ ratePerSecond: 20 / 4 / 900, burst: 5 });
  });

  it('0 turns a limit off, for everyone or for one tenant', () => {
    const s = settings({
      RATE_LIMIT_REQUESTS_PER_SECOND: '0',
      CREDENTIAL_FAILURES_PER_IP: '0',
      RATE_LIMIT_OVERRIDES: '{"acme":{"eventsPerSecond":0},"globex":{"requestsPerSecond":7}}',
    });
    expect(s.requests('t').ratePerSecond).toBe(0);
    expect(s.requests('globex')).toEqual({ ratePerSecond: 7, burst: 14 });
    expect(s.events!('acme').ratePerSecond).toBe(0);
    expect(s.credentials.perIp.ratePerSecond).toBe(0);
  });

  it('bad overrides are configuration errors naming the setting', () => {
    for (const bad of [
      'not json',
      '[1]',
      '{"acme":{"requestPerSecond":5}}',
      '{"acme":{"eventsPerSecond":-1}}',
    ]) {
      expect(() => loadConfig(schema, { RATE_LIMIT_OVERRIDES: bad })).toThrow(ConfigError);
      expect(() => loadConfig(schema, { RATE_LIMIT_OVERRIDES: bad })).toThrow(/RATE_LIMIT_OVERRIDES/);
    }
  });

  it('no event settings, no event limit (query-api)', () => {
    const q = rateLimitSchema({ requestsPerSecond: 50, requestsBurst: 100 });
    expect(limitSettings(loadConfig(q, {})).events).toBeUndefined();
  });
});

describe('TLS settings', () => {
  const tls = z.object({ PORT: z.string().optional() }).extend(tlsSchema.shape).check(checkTlsPair);

  it('both or neither', () => {
    expect(tlsFiles(loadConfig(tls, {}))).toBeUndefined();
    expect(tlsFiles(loadConfig(tls, { TLS_CERT_FILE: '', TLS_KEY_FILE: ' ' }))).toBeUndefined();
    expect(tlsFiles(loadConfig(tls, { TLS_CERT_FILE: '/c.pem', TLS_KEY_FILE: '/k.pem' }))).toEqual({
      certFile: '/c.pem',
      keyFile: '/k.pem',
    });
    expect(() => loadConfig(tls, { TLS_CERT_FILE: '/c.pem' })).toThrow(
      /TLS_KEY_FILE: TLS_CERT_FILE and TLS_KEY_FILE/,
    );
    expect(() => loadConfig(tls, { TLS_KEY_FILE: '/k.pem' })).toThrow(/TLS_CERT_FILE: /);
  });
});
