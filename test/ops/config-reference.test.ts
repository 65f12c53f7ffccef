/** docs/operations.md stays true to the code: its configuration reference and its metric list. */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DOC,
  docComments,
  renderConfigReference,
  withFreshReference,
} from '../../scripts/gen-config-reference.ts';
import { ingestConfigSchema } from '../../services/ingest-api/src/config.ts';
import { queryConfigSchema } from '../../services/query-api/src/config.ts';
import { sinkConfigSchema } from '../../services/sink/src/config.ts';
import { streamerConfigSchema } from '../../services/streamer/src/config.ts';
import { registeredMetrics } from './metrics-catalog.ts';

const doc = fs.readFileSync(DOC, 'utf8');

describe('docs/operations.md', () => {
  it('the committed configuration reference equals a fresh generation (pnpm tsx scripts/gen-config-reference.ts)', () => {
    expect(doc).toBe(withFreshReference(doc));
  });

  it('lists every option of every service schema', () => {
    const table = renderConfigReference();
    const keys = new Set([
      ...Object.keys(ingestConfigSchema.shape),
      ...Object.keys(sinkConfigSchema.shape),
      ...Object.keys(queryConfigSchema.shape),
      ...Object.keys(streamerConfigSchema.shape),
    ]);
    for (const k of keys) expect(table, k).toMatch(new RegExp(`^\\| \`${k}\` +\\|`, 'm'));
    expect(table).toMatch(/\| `QUERY_CURSOR_SECRET` +\| query-api +\| \*\*required\*\* +\|/);
    expect(table).toMatch(
      /\| `PORT` +\| all +\| `8080` \(sink: `8082`\) \(query-api: `8081`\) \(streamer: `8084`\) +\| HTTP port\. +\|/,
    );
  });

  it('documents every metric a service registers', () => {
    const missing = registeredMetrics()
      .map((m) => m.name)
      .filter((name) => !doc.includes(`\`${name}\``) && !doc.includes(`\`${name}{`));
    expect(missing).toEqual([]);
  });
});

describe('doc comment extraction', () => {
  it('takes the comment directly above each key, not an earlier one', () => {
    const src = `/** file header */\nconst x = 1;\nexport const s = z.object({\n  /** First. */\n  A: 1,\n  /**\n   * Second,\n   * two lines.\n   */\n  B: 2,\n  C: 3,\n});`;
    expect([...docComments(src)]).toEqual([
      ['A', 'First.'],
      ['B', 'Second, two lines.'],
    ]);
  });
});
