/**
 * What the services really export, read from their source: every prom-client metric constructed
 * in services/* and packages/* (name, type, label names), plus the default Node.js process
 * metrics of `createMetrics`. The alert rules, the dashboard and docs/operations.md are checked
 * against this, so they cannot name a metric or a label that no service registers.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMetrics } from '../../packages/http/src/metrics.ts';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface MetricDef {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary';
  labels: string[];
  help: string;
  /** Source file, relative to the repository root ('' for the Node.js defaults). */
  file: string;
}

/** Labels every series has: the registry's default label and Prometheus' target labels. */
export const TARGET_LABELS = ['service', 'job', 'instance'];

function sourceFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'dist' ? [] : sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

const CTOR_RE = /new (Counter|Gauge|Histogram|Summary)(?:<[^>]*>)?\(\{([\s\S]*?)\n\s*\}\)/g;

/** Metrics constructed in the source of every package and service. */
export function registeredMetrics(): MetricDef[] {
  const files = ['services', 'packages'].flatMap((top) =>
    fs.readdirSync(path.join(root, top)).flatMap((pkg) => sourceFiles(path.join(root, top, pkg, 'src'))),
  );
  const defs: MetricDef[] = [];
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    if (!text.includes('prom-client')) continue;
    for (const m of text.matchAll(CTOR_RE)) {
      const body = m[2]!;
      const name = /name:\s*'([^']+)'/.exec(body)?.[1];
      if (!name) throw new Error(`${file}: a metric without a literal name`);
      const help = /help:\s*'((?:[^'\\]|\\.)*)'/.exec(body)?.[1] ?? '';
      const labels = [...(/labelNames:\s*\[([^\]]*)\]/.exec(body)?.[1] ?? '').matchAll(/'([^']+)'/g)].map(
        (l) => l[1]!,
      );
      defs.push({
        name,
        type: m[1]!.toLowerCase() as MetricDef['type'],
        labels,
        help,
        file: path.relative(root, file),
      });
    }
  }
  return defs;
}

/** The Node.js default metrics (`process_*`, `nodejs_*`) as a live registry reports them. */
export async function defaultMetrics(): Promise<MetricDef[]> {
  const { registry } = createMetrics('catalog');
  const json = await registry.getMetricsAsJSON();
  return json
    .filter((m) => m.name !== 'http_request_duration_seconds')
    .map((m) => ({
      name: m.name,
      type: String(m.type) as MetricDef['type'],
      labels: [...new Set(m.values.flatMap((v) => Object.keys(v.labels ?? {})))],
      help: m.help,
      file: '',
    }));
}

/** Series names a metric produces: histograms add _bucket/_sum/_count, summaries _sum/_count. */
export function seriesNames(def: MetricDef): string[] {
  if (def.type === 'histogram') return [`${def.name}_bucket`, `${def.name}_sum`, `${def.name}_count`];
  if (def.type === 'summary') return [def.name, `${def.name}_sum`, `${def.name}_count`];
  return [def.name];
}

/** Series name → its metric, for every registered and default metric. */
export async function seriesIndex(): Promise<Map<string, MetricDef>> {
  const index = new Map<string, MetricDef>();
  for (const def of [...registeredMetrics(), ...(await defaultMetrics())]) {
    for (const s of seriesNames(def)) index.set(s, def);
  }
  return index;
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'atan2']);
/** Series Prometheus itself generates for every target. */
export const PROMETHEUS_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

export interface SelectorUse {
  metric: string;
  labels: string[];
}

/**
 * The series selectors of a PromQL expression: metric names with the label names their matchers
 * use. A small scanner rather than a parser: strings, grouping clauses, ranges and function calls
 * are removed, and what remains that looks like an identifier is a metric name.
 */
export function selectors(expr: string): SelectorUse[] {
  let e = expr.replace(/\$\{?\w+\}?/g, '0'); // Grafana variables ($__rate_interval, ${service})
  const uses: SelectorUse[] = [];
  // metric{matchers}: remember the matcher label names, then blank the matcher block.
  e = e.replace(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g, (_, metric: string, body: string) => {
    const labels = [...body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((m) => m[1]!);
    uses.push({ metric, labels });
    return ' ';
  });
  e = e
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b\d[\w.]*/g, ' ');
  for (const m of e.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    if (m[2] || KEYWORDS.has(m[1]!)) continue; // a function call or an operator keyword
    uses.push({ metric: m[1]!, labels: [] });
  }
  return uses;
}

/** Problems with one expression: unknown metrics, or labels the metric does not have. */
export function checkExpression(expr: string, index: Map<string, MetricDef>): string[] {
  const problems: string[] = [];
  for (const use of selectors(expr)) {
    if (PROMETHEUS_SERIES.has(use.metric)) continue;
    const def = index.get(use.metric);
    if (!def) {
      problems.push(`unknown metric ${use.metric}`);
      continue;
    }
    const allowed = new Set([
      ...def.labels,
      ...TARGET_LABELS,
      ...(use.metric.endsWith('_bucket') ? ['le'] : []),
    ]);
    for (const l of use.labels) {
      if (!allowed.has(l)) problems.push(`${use.metric} has no label ${l}`);
    }
  }
  return problems;
}
