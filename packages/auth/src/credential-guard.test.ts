import { ApiError, createMetrics, rateLimitRefusals } from '@audit/http';
import { describe, expect, it } from 'vitest';
import { createCredentialGuard } from './credential-guard.ts';

function guard() {
  let t = 0;
  const { registry } = createMetrics('guard-test', false);
  const g = createCredentialGuard({
    // 3 failures per address, 2 per name, each refilled over 60 s.
    perIp: { ratePerSecond: 3 / 60, burst: 3 },
    perUser: { ratePerSecond: 2 / 60, burst: 2 },
    maxKeys: 100,
    refusals: rateLimitRefusals(registry),
    now: () => t,
  });
  return { g, registry, advance: (s: number) => (t += s * 1000) };
}

const refusal = async (p: Promise<void>) => {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  return undefined;
};

describe('credential guard', () => {
  it('locks a name after its failures, from any address; other names are unaffected', async () => {
    const { g, registry } = guard();
    const a = (ip: string) => ({ ip, clientId: 'alice' });
    await g.admit(a('10.0.0.1'));
    await g.failed(a('10.0.0.1'));
    await g.admit(a('10.0.0.2'));
    await g.failed(a('10.0.0.2'));
    const err = await refusal(g.admit(a('10.0.0.3')));
    expect(err).toMatchObject({ status: 429, code: 'too_many_attempts' });
    expect(Number(err!.headers!['Retry-After'])).toBe(30); // one failure refills in 60/2 s
    expect(await refusal(g.admit({ ip: '10.0.0.3', clientId: 'bob' }))).toBeUndefined();
    expect(await registry.getSingleMetricAsString('http_rate_limited_total')).toContain(
      'http_rate_limited_total{limit="credentials_user",service="guard-test"} 1',
    );
  });

  it('locks an address after its failures across names; other addresses are unaffected', async () => {
    const { g } = guard();
    for (const name of ['u1', 'u2', 'u3']) {
      await g.admit({ ip: '10.0.0.9', clientId: name });
      await g.failed({ ip: '10.0.0.9', clientId: name });
    }
    const err = await refusal(g.admit({ ip: '10.0.0.9', clientId: 'u4' }));
    expect(err).toMatchObject({ status: 429, code: 'too_many_attempts' });
    expect(err!.message).toMatch(/address/);
    expect(await refusal(g.admit({ ip: '10.0.0.10', clientId: 'u4' }))).toBeUndefined();
  });

  it('admits nothing that does not fail: successes are free, and the budget refills over the window', async () => {
    const { g, advance } = guard();
    const a = { ip: '10.0.0.1', clientId: 'alice' };
    for (let i = 0; i < 100; i++) await g.admit(a);
    await g.failed(a);
    await g.failed(a);
    expect(await refusal(g.admit(a))).toBeDefined();
    advance(29);
    expect(await refusal(g.admit(a))).toBeDefined();
    advance(1);
    expect(await refusal(g.admit(a))).toBeUndefined();
    // Failures beyond the budget while locked do not dig a deeper hole than empty.
    await g.failed(a);
    await g.failed(a);
    advance(30);
    expect(await refusal(g.admit(a))).toBeUndefined();
  });

  it('an attempt without an address is limited by its name (and the reverse)', async () => {
    const { g } = guard();
    await g.failed({ ip: undefined, clientId: 'alice' });
    await g.failed({ ip: undefined, clientId: 'alice' });
    expect(await refusal(g.admit({ ip: undefined, clientId: 'alice' }))).toBeDefined();
    for (let i = 0; i < 3; i++) await g.failed({ ip: '10.1.1.1', clientId: undefined });
    expect(await refusal(g.admit({ ip: '10.1.1.1', clientId: undefined }))).toBeDefined();
  });
});
