import type { ClickHouseClient } from '@audit/clickhouse';
import { round } from './report.ts';

const chTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/**
 * A tenant of `n` generated events spread evenly over `spanMs` before `endMs`, inserted straight
 * into ClickHouse by INSERT … SELECT FROM numbers() (the benches measure reads, not ingestion).
 * A second call with the same tenant and n reuses the rows.
 */
export async function loadGeneratedTenant(
  admin: ClickHouseClient,
  tenant: string,
  n: number,
  endMs: number,
  spanMs: number,
): Promise<void> {
  const count = async (): Promise<number> => {
    const rs = await admin.query({
      query: 'SELECT count() AS n FROM audit.events WHERE tenant_id = {t:String}',
      query_params: { t: tenant },
      format: 'JSONEachRow',
    });
    return Number((await rs.json<{ n: string }>())[0]?.n ?? 0);
  };

  const have = await count();
  if (have >= n) {
    console.log(`reusing ${have} events of ${tenant}`);
    return;
  }
  if (have > 0) throw new Error(`${tenant} holds ${have} of ${n} events: use another --events value`);
  const CHUNK = 1_000_000;
  const t0 = performance.now();
  for (let off = 0; off < n; off += CHUNK) {
    await admin.command({
      query: `INSERT INTO audit.events (tenant_id, event_id, event_type, timestamp, received_at, user_id, source,
          actor_type, resource_type, resource_id, action, outcome, details, event_details)
        SELECT {t:String}, generateUUIDv4(number),
          ['customer.account.created','customer.billed','customer.action.performed','customer.account.deactivated',
           'customer.login','customer.logout','customer.password.changed','customer.invoice.viewed'][number % 8 + 1],
          {end:DateTime64(3, 'UTC')} - toIntervalMillisecond(intDiv(number * {span:UInt64}, {n:UInt64})) AS ts,
          ts + toIntervalMillisecond(5),
          concat('u', toString(cityHash64(number) % 100000)),
          ['web','billing','crm'][number % 3 + 1], 'user', 'invoice', concat('inv-', toString(number % 1000000)),
          ['create','update','delete'][number % 3 + 1], if(number % 10 = 0, 'failure', 'success'),
          map('customer.plan', ['free','pro','enterprise'][cityHash64(number, 1) % 3 + 1],
              'customer.country', ['FR','DE','US','GB'][number % 4 + 1],
              'amount', toString((cityHash64(number, 2) % 100000) / 100)) AS m,
          concat('{"customer":{"plan":"', m['customer.plan'], '","country":"', m['customer.country'], '"},"amount":', m['amount'], '}')
        FROM numbers({off:UInt64}, {cnt:UInt64})`,
      query_params: { t: tenant, end: chTime(endMs), span: spanMs, n, off, cnt: Math.min(CHUNK, n - off) },
      clickhouse_settings: { insert_deduplicate: 0 },
    });
    process.stdout.write(`\rloaded ${Math.min(off + CHUNK, n)} / ${n}`);
  }
  console.log(`\nloaded ${n} events in ${round((performance.now() - t0) / 1000, 1)} s`);
}
