import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import {
  buildApp,
  createTopic,
  DEV_USERS_FILE,
  kafkaClient,
  newTenant,
  readTopic,
  type TestApp,
  topicMessageCount,
} from '../../services/ingest-api/test/helpers.ts';

export const AUDIENCE = 'audit-hostile-test';
/** An hour ago: inside the retention whenever the corpus runs (older events are refused). */
export const BASE_TIMESTAMP = new Date(Date.now() - 3_600_000).toISOString();

/**
 * The ingest API in-process on a topic of its own, with a producer token of its own tenant.
 * Every hostile request must leave that topic untouched; the only messages on it at the end are
 * the probes (valid events sent between cases), whose ids are recorded here.
 */
export async function ingestContext() {
  const kafka = kafkaClient();
  const topic = await createTopic(kafka, 1);
  const app: TestApp = await buildApp({ kafka, topic, audience: AUDIENCE, usersFile: DEV_USERS_FILE });
  const tenant = newTenant();
  const victim = newTenant();
  const issue = (t: string, scopes: string[]) =>
    app.auth.issueToken({ subject: 'hostile-producer', tenant: t, scopes });
  const writer = await issue(tenant, ['events:write']);
  const probeIds: string[] = [];

  /** A valid event as a producer sends it; `members`/`details` splice raw JSON text into it. */
  const eventText = (opts: { members?: string; details?: string; id?: string } = {}) =>
    `{"event_id":"${opts.id ?? randomUUID()}","event_type":"hostile.probe","timestamp":"${BASE_TIMESTAMP}",` +
    `"user_id":"hostile-user","event_details":${opts.details ?? '{"ok":true}'}` +
    `${opts.members ? `,${opts.members}` : ''}}`;

  /** POSTs bytes (so the Request never adds a Content-Type of its own); a header set to '' is left out. */
  const post = (body: string | Uint8Array, headers: Record<string, string> = {}) => {
    const all: Record<string, string> = {
      'content-type': 'application/json',
      authorization: `Bearer ${writer}`,
      ...headers,
    };
    for (const [k, v] of Object.entries(all)) if (v === '') delete all[k];
    return app.app.request('/events', {
      method: 'POST',
      headers: all,
      body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
    });
  };

  /** The service still takes a valid event after a hostile one (and it is the only thing written). */
  const probe = async (label: string) => {
    const id = randomUUID();
    const res = await post(eventText({ id }));
    expect(res.status, `probe after ${label}`).toBe(202);
    expect(((await res.json()) as { event_ids: string[] }).event_ids).toEqual([id]);
    probeIds.push(id);
  };

  /** The topic holds exactly the probes: no hostile request wrote anything. */
  const expectOnlyProbes = async () => {
    expect(await topicMessageCount(kafka, topic)).toBe(probeIds.length);
    const messages = await readTopic(kafka, topic);
    const ids = messages.map(
      (m) => (JSON.parse(m.value?.toString() ?? '{}') as { event_id: string }).event_id,
    );
    expect(ids.sort()).toEqual([...probeIds].sort());
    for (const m of messages) expect(m.key?.toString().startsWith(`${tenant}/`)).toBe(true);
  };

  /** A valid event accepted by another route to the same topic (e.g. a second app on the publisher). */
  const recordProbe = (id: string) => probeIds.push(id);

  return {
    kafka,
    topic,
    app,
    tenant,
    victim,
    issue,
    writer,
    eventText,
    post,
    probe,
    recordProbe,
    expectOnlyProbes,
    close: () => app.close(),
  };
}

export type IngestContext = Awaited<ReturnType<typeof ingestContext>>;
