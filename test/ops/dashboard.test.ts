/** deploy/grafana/audit-log.json: valid dashboard JSON whose queries use only exported metrics. */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkExpression, type MetricDef, root, selectors, seriesIndex } from './metrics-catalog.ts';

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { uid: string };
  targets?: { refId: string; expr: string }[];
}
const dashboard = JSON.parse(fs.readFileSync(path.join(root, 'deploy/grafana/audit-log.json'), 'utf8')) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string }[] };
};
const panels = dashboard.panels.filter((p) => p.type !== 'row');
const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

let index: Map<string, MetricDef>;
beforeAll(async () => {
  index = await seriesIndex();
});

describe('Grafana dashboard', () => {
  it('queries only metrics and labels the services register', () => {
    expect(exprs.length).toBeGreaterThan(20);
    expect(exprs.flatMap((e) => checkExpression(e.expr, index).map((p) => `${e.panel}: ${p}`))).toEqual([]);
  });

  it('shows ingest, sink and query health', () => {
    const used = new Set(exprs.flatMap((e) => selectors(e.expr).map((s) => s.metric)));
    for (const m of [
      'events_accepted_total',
      'events_rejected_total',
      'kafka_send_duration_seconds_bucket',
      'http_request_duration_seconds_bucket',
      'sink_consumer_lag',
      'sink_rows_inserted_total',
      'sink_insert_duration_seconds_bucket',
      'sink_batch_rows_bucket',
      'sink_dlq_messages_total',
      'clickhouse_query_duration_seconds_bucket',
    ]) {
      expect(used, m).toContain(m);
    }
  });

  it('is well formed: unique ids and refIds, panels inside the 24-column grid, a datasource variable', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dashboard.uid).toBe('audit-log');
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource' }),
    );
    for (const p of panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      expect(p.datasource?.uid, p.title).toBe(['$', '{datasource}'].join('')); // Grafana's variable syntax
      const refIds = (p.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size, p.title).toBe(refIds.length);
    }
    // No two panels overlap.
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          const c = `${x},${y}`;
          expect(cells.has(c), `${p.title} overlaps at ${c}`).toBe(false);
          cells.add(c);
        }
      }
    }
  });
});
