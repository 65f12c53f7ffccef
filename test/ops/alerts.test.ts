/**
 * deploy/prometheus/alerts.yml against the code: every metric and label a rule uses is one a
 * service registers, the alerts the runbook promises exist, and (where promtool is installed, as
 * in CI) promtool accepts the file and the rule unit tests in alerts.promtool.yml pass.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkExpression, type MetricDef, root, selectors, seriesIndex } from './metrics-catalog.ts';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const file = path.join(root, 'deploy/prometheus/alerts.yml');
const doc = parse(fs.readFileSync(file, 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
const rules = doc.groups.flatMap((g) => g.rules);

const hasPromtool = spawnSync('promtool', ['--version']).status === 0;

let index: Map<string, MetricDef>;
beforeAll(async () => {
  index = await seriesIndex();
});

describe('alert rules', () => {
  it('use only metrics and labels the services register', () => {
    const problems = rules.flatMap((r) => checkExpression(r.expr, index).map((p) => `${r.alert}: ${p}`));
    expect(problems).toEqual([]);
  });

  it('cover what the runbook promises', () => {
    const used = (alert: string) =>
      selectors(rules.find((r) => r.alert === alert)?.expr ?? '').map((s) => s.metric);
    expect(used('AuditSinkConsumerLagHigh')).toContain('sink_consumer_lag');
    expect(used('AuditDlqWrites')).toContain('sink_dlq_messages_total');
    expect(used('AuditHttp5xxRate')).toContain('http_request_duration_seconds_count');
    expect(used('AuditIngestUnavailable')).toContain('events_rejected_total');
    expect(used('AuditClickHouseInsertFailures')).toContain('sink_retries_total');
    expect(used('AuditSinkDown')).toContain('up');
  });

  it('have unique names, a severity, a summary and a runbook pointer', () => {
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const r of rules) {
      expect(r.alert, r.expr).toMatch(/^Audit[A-Za-z0-9]+$/);
      expect(['warning', 'critical']).toContain(r.labels?.severity);
      expect(r.annotations?.summary).toBeTruthy();
      expect(r.annotations?.description).toBeTruthy();
    }
  });

  it('every runbook anchor an alert points to exists in docs/operations.md', () => {
    const ops = fs.readFileSync(path.join(root, 'docs/operations.md'), 'utf8');
    const anchors = new Set(
      [...ops.matchAll(/^#+\s+(.+)$/gm)].map((m) =>
        m[1]!
          .trim()
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    const refs = rules.flatMap((r) =>
      [...(r.annotations?.description ?? '').matchAll(/#([a-z0-9-]+)/g)].map((m) => m[1]!),
    );
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((a) => !anchors.has(a))).toEqual([]);
  });
});

describe('the metric scanner', () => {
  it('finds metrics and matcher labels, ignoring functions, grouping and strings', () => {
    expect(
      selectors('sum by (le) (rate(a_bucket{x="y",z=~"w|v"}[5m])) / on() sum(b) > 0 and c offset 5m'),
    ).toEqual([
      { metric: 'a_bucket', labels: ['x', 'z'] },
      { metric: 'b', labels: [] },
      { metric: 'c', labels: [] },
    ]);
  });

  it('reports a metric or a label no service registers', () => {
    expect(checkExpression('rate(sink_rows_insertd_total[5m])', index)).toEqual([
      'unknown metric sink_rows_insertd_total',
    ]);
    expect(checkExpression('sink_dlq_messages_total{topic="x"}', index)).toEqual([
      'sink_dlq_messages_total has no label topic',
    ]);
  });
});

describe.skipIf(!hasPromtool)('promtool', () => {
  it('check rules accepts the file', () => {
    const out = execFileSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    expect(out).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it('the rule unit tests pass (alerts fire on synthetic series)', () => {
    const r = spawnSync('promtool', ['test', 'rules', 'alerts.promtool.yml'], {
      cwd: path.join(root, 'test/ops'),
      encoding: 'utf8',
    });
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });
});
