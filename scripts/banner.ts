/**
 * What `npm start` prints once everything is up: addresses, dev users, tokens, three example
 * queries that return rows from the demo data, and the command that verifies acme's trail. test/start/start.int.test.ts runs exactly the
 * commands `exampleQueries` returns, as printed.
 */
import type { DemoLoad } from './demo-data.ts';
import { DEMO_DAYS, DEMO_SOURCE_PREFIX, DEMO_TENANTS } from './demo-data.ts';

export interface BannerContext {
  kafkaBrokers: string[];
  /** A dev tenant's own topic and principal, for producing straight to Kafka. */
  tenantTopic?: { topic: string; user: string };
  topics: string[];
  clickhouseUrl: string;
  clickhouseTcpPort: number;
  readerUser: string;
  /** Printed only when it is the development default; otherwise the command names the variable. */
  readerPassword: string;
  readerPasswordIsDefault: boolean;
  services: Array<{ name: string; url: string }>;
  ingestUrl: string;
  queryUrl: string;
  demo: DemoLoad | 'skipped';
  /** acme-producer (events:write) and acme-analyst (events:read). */
  writeToken?: string;
  readToken?: string;
  /** The sealer's verifier key (public) and address, for the `pnpm verify` command. */
  verifierKey?: string;
  sealerUrl?: string;
  /** The local operator key (management API), when npm start created it. */
  adminKeyFile?: string;
  now?: Date;
}

export interface ExampleQuery {
  title: string;
  /** A shell command (bash), reading the token from $READ_TOKEN. */
  command: string;
}

/** The tenant of the printed tokens and of the examples. */
export const EXAMPLE_TENANT = DEMO_TENANTS[0]!;

export function exampleQueries(ctx: BannerContext): ExampleQuery[] {
  const auth = `-H "Authorization: Bearer $READ_TOKEN"`;
  const credentials = ctx.readerPasswordIsDefault
    ? `${ctx.readerUser}:${ctx.readerPassword}`
    : `${ctx.readerUser}:$CLICKHOUSE_READER_PASSWORD`;
  const t = EXAMPLE_TENANT.tenant;
  return [
    {
      title: `${t}'s three latest charges of 100 ${EXAMPLE_TENANT.currency} or more (query API, a filter on event_details)`,
      command: [
        `curl -s -G ${auth} ${ctx.queryUrl}/events \\`,
        `  --data-urlencode 'event_type=customer.billed' --data-urlencode 'details.amount[gte]=100' --data-urlencode 'limit=3'`,
      ].join('\n'),
    },
    {
      title: `${t}'s events per type (query API)`,
      command: `curl -s -G ${auth} ${ctx.queryUrl}/events/stats --data-urlencode 'group_by=event_type'`,
    },
    {
      title: `${t}'s paid charges per week (SQL as ${t}'s read-only analyst, who sees only ${t}'s rows)`,
      command: [
        `curl -s -u "${credentials}" '${ctx.clickhouseUrl}/?param_tenant=${t}' --data-binary "`,
        `  SELECT toStartOfWeek(timestamp) AS week, count() AS charges, sum(toFloat64OrZero(details['amount'])) AS amount`,
        '  FROM audit.events FINAL',
        `  WHERE tenant_id = {tenant:String} AND event_type = 'customer.billed' AND outcome = 'success'`,
        '  GROUP BY week ORDER BY week FORMAT PrettyCompactMonoBlock"',
      ].join('\n'),
    },
  ];
}

/**
 * `pnpm verify` of the example tenant's whole trail (READ_TOKEN is acme-analyst's), checked
 * against the sealer's witness file too, so a rolled-back log is caught.
 */
export function verifyCommand(ctx: BannerContext): string | undefined {
  if (!ctx.verifierKey) return undefined;
  const published = ctx.sealerUrl ? ` --published ${ctx.sealerUrl}/witness` : '';
  return `pnpm verify --url ${ctx.queryUrl} --token "$READ_TOKEN" --key '${ctx.verifierKey}'${published}`;
}

export function bannerLines(ctx: BannerContext): string[] {
  const lines: string[] = [''];
  lines.push(
    `Kafka       ${ctx.kafkaBrokers.join(',')}  topics ${ctx.topics.join(', ')}  (SASL/SCRAM-SHA-512)`,
  );
  if (ctx.tenantTopic) {
    lines.push(
      `            direct producers: ${ctx.tenantTopic.topic} as ${ctx.tenantTopic.user} (packages/schema/README.md)`,
    );
  }
  lines.push(
    `ClickHouse  ${ctx.clickhouseUrl} (native :${ctx.clickhouseTcpPort}), read-only user ${ctx.readerUser}`,
  );
  for (const s of ctx.services) lines.push(`${s.name.padEnd(11)} ${s.url}`);
  lines.push(`API docs    ${ctx.ingestUrl}/docs and ${ctx.queryUrl}/docs (interactive, try-it)`);
  // The fragment never reaches the server or its logs; the page keeps it in the tab only.
  if (ctx.readToken) lines.push(`Viewer      ${ctx.queryUrl}/ui/#token=${ctx.readToken}`);

  lines.push('');
  if (ctx.demo === 'skipped') {
    lines.push('Demo data: skipped (--no-demo).');
  } else {
    const counts = Object.entries(ctx.demo.counts)
      .map(([tenant, n]) => `${tenant} ${n.toLocaleString('en-US')}`)
      .join(', ');
    const what =
      ctx.demo.status === 'loaded' ? `loaded in ${ctx.demo.seconds.toFixed(1)} s` : 'already stored';
    lines.push(
      `Demo data: ${counts} events over the ${DEMO_DAYS} days before ${new Date(ctx.demo.anchor).toISOString()}` +
        ` (source ${DEMO_SOURCE_PREFIX}*), ${what}; --no-demo skips it.`,
    );
  }

  lines.push('');
  lines.push('Dev users (password "devpass"): acme-producer, globex-producer (events:write);');
  lines.push('                                 acme-analyst, globex-analyst (events:read);');
  lines.push('                                 acme-streams (streams:manage: log streams, docs/streams.md)');
  if (ctx.adminKeyFile) {
    lines.push(`Operator key (tenants and API keys, POST /admin/*): ${ctx.adminKeyFile}; a token for it:`);
    lines.push(
      `  curl -s -X POST ${ctx.queryUrl}/oauth/token -d grant_type=client_credentials -u "$(cut -d_ -f2 ${ctx.adminKeyFile}):$(cat ${ctx.adminKeyFile})"`,
    );
  }
  if (ctx.writeToken && ctx.readToken) {
    lines.push('');
    lines.push(`Tokens for ${EXAMPLE_TENANT.producer} and ${EXAMPLE_TENANT.analyst} (15 min):`);
    lines.push('');
    lines.push(`export TOKEN=${ctx.writeToken}`);
    lines.push(`export READ_TOKEN=${ctx.readToken}`);
    lines.push('');
    const at = new Date(Math.floor((ctx.now ?? new Date()).getTime() / 1000) * 1000).toISOString();
    lines.push('Send an event:');
    lines.push(
      `curl -s -X POST ${ctx.ingestUrl}/events -H "Content-Type: application/json" -H "Authorization: Bearer $TOKEN" \\`,
    );
    lines.push(
      `  -d '{"event_type":"customer.account.created","timestamp":"${at}","user_id":"u1","event_details":{"plan":"pro"}}'`,
    );
    lines.push('');
    lines.push('Example queries:');
    for (const q of exampleQueries(ctx)) {
      lines.push('');
      lines.push(`# ${q.title}`);
      lines.push(q.command);
    }
    const verify = verifyCommand(ctx);
    if (verify) {
      lines.push('');
      lines.push(
        `# Verify ${EXAMPLE_TENANT.tenant}'s trail against the signed checkpoints (docs/integrity.md)`,
      );
      lines.push(verify);
    }
  }
  if (ctx.verifierKey) {
    lines.push('');
    lines.push(`Checkpoint verifier key: ${ctx.verifierKey}`);
  }
  lines.push('');
  lines.push('Ctrl-C stops the services and the stack.');
  return lines;
}
