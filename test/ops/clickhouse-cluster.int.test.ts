/**
 * The real ClickHouse server (26.7, the engine production runs) parses every statement of the
 * cluster migrations: `EXPLAIN AST` checks the syntax, ON CLUSTER and engine clauses included,
 * without executing anything (no cluster or Keeper exists here). Read-only user, nothing created.
 */
import { createClickHouse } from '@audit/clickhouse';
import { stackSchema } from '@audit/config';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterStatements } from './cluster-migrations.ts';

const ch = createClickHouse(stackSchema.parse(process.env), 'reader');
afterAll(() => ch.close());

describe('cluster migrations against the real parser', () => {
  it('every statement parses', async () => {
    const asts: string[] = [];
    for (const statement of clusterStatements()) {
      const rs = await ch.query({ query: `EXPLAIN AST ${statement}`, format: 'TabSeparatedRaw' });
      asts.push(await rs.text());
    }
    expect(asts.map((a) => a.split('\n')[0]!.replace(/\s+/g, ' ').trim())).toEqual([
      'CreateQuery audit (children 2)',
      'CreateQuery audit events_local (children 5)',
      'CreateQuery audit events (children 4)',
      'AlterQuery audit events_local (children 4)',
      'AlterQuery audit events (children 4)',
      'CreateQuery audit event_ids_local (children 5)',
      'CreateQuery audit event_ids_mv (children 5)',
      'CreateQuery audit event_ids (children 4)',
      'AlterQuery audit events_local (children 4)',
      'AlterQuery audit events (children 4)',
      'AlterQuery audit events_local (children 4)',
    ]);
    expect(asts[1]).toContain('Function ReplicatedReplacingMergeTree');
    expect(asts[2]).toContain('Function Distributed');
    expect(asts[2]).toContain('Function cityHash64');
  });
});
