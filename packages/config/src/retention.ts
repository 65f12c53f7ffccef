import { retentionDaysProblem } from '@audit/schema';
import { z } from 'zod';
import { env } from './load.ts';

/**
 * How long events are kept: one setting for the sink (the table's TTL) and the ingest API (which
 * refuses events already older than it, since the TTL would delete them on arrival).
 */
export const retentionSchema = z.object({
  /**
   * Retention of the events, in days: the events table's TTL on `timestamp` (applied by the sink
   * at start-up), and the age beyond which ingest refuses an event (400 `expired`) and the sink
   * dead-letters one (`expired`). Bounded so the TTL of a new event stays inside ClickHouse's
   * DateTime (ends 2106-02-07).
   */
  RETENTION_DAYS: env.int(365, 1, 36_500).check((ctx) => {
    const p = retentionDaysProblem(ctx.value, Date.now());
    if (p !== undefined) ctx.issues.push({ code: 'custom', message: p, input: ctx.value });
  }),
});

export type RetentionConfig = z.infer<typeof retentionSchema>;
