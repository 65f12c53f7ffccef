import type { AuditEvent } from '@audit/schema';
import { describe, expect, it } from 'vitest';
import { datadogRequest } from './formats/datadog.ts';
import { splunkRequest } from './formats/splunk.ts';
import { octetFrame, syslogMessage } from './formats/syslog.ts';
import { activeSecrets, signWebhook, webhookRequest } from './formats/webhook.ts';

const event: AuditEvent = {
  event_id: '0190f1e2-7c3a-7d4e-8f10-123456789abc',
  event_type: 'customer.account.created',
  timestamp: '2026-12-03T10:11:12.345Z',
  received_at: '2026-12-03T10:11:12.400Z',
  tenant_id: 'acme',
  source: 'billing',
  user_id: 'alice',
  schema_version: 1,
  event_details: { plan: 'pro', note: 'quote " and ] and \\' },
} as AuditEvent;

describe('Standard Webhooks', () => {
  it('signs as the specification’s example does', () => {
    // The example of https://www.standardwebhooks.com (spec, "Verifying signatures").
    expect(
      signWebhook(
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        'msg_p5jXN8AQM9LWM0D4loKWxJek',
        1614265330,
        '{"test": 2432232314}',
      ),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('signs a batch with every active secret, the same id on every attempt', () => {
    const secrets = [
      { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
      { secret: 'whsec_b2xk', until: 5000 },
    ];
    const r = webhookRequest([event], {
      streamId: 'st_1',
      tenantId: 'acme',
      messageId: 'm1',
      nowMs: 4000,
      secrets,
    });
    expect(r.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(r.headers['webhook-id']).toBe('m1');
    expect(r.headers['webhook-timestamp']).toBe('4');
    expect(JSON.parse(r.body).data).toEqual({ stream_id: 'st_1', tenant_id: 'acme', events: [event] });
    expect(activeSecrets(secrets, 5000)).toHaveLength(1);
  });
});

describe('Splunk HEC and Datadog bodies', () => {
  it('HEC: concatenated envelopes, time from the event in epoch seconds', () => {
    const r = splunkRequest(
      [event, event],
      { type: 'splunk', url: 'https://s', index: 'audit' },
      'tok',
      'h1',
    );
    expect(r.headers.authorization).toBe('Splunk tok');
    const lines = r.body.split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ time: 1796292672.345, host: 'h1', index: 'audit', event });
  });

  it('Datadog: an array, the event as JSON text in message, its tenant as a tag', () => {
    const r = datadogRequest(
      [event],
      { type: 'datadog', url: 'https://d', api_key: '', service: 'audit-log' } as never,
      'k',
      {
        streamId: 'st_1',
        hostname: 'h1',
      },
    );
    expect(r.headers['dd-api-key']).toBe('k');
    const [entry] = JSON.parse(r.body);
    expect(JSON.parse(entry.message)).toEqual(event);
    expect(entry.ddtags.split(',')).toContain('tenant_id:acme');
  });
});

describe('syslog', () => {
  it('RFC 5424 with escaped structured data and the event as MSG, octet-counted in bytes', () => {
    const msg = syslogMessage({ ...event, tenant_id: 'ac"me]' } as AuditEvent, {
      hostname: 'host one',
      appName: 'audit-log',
      sdId: 'audit@32473',
    });
    expect(msg).toMatch(
      /^<110>1 2026-12-03T10:11:12\.345Z hostone audit-log - customer\.account\.created \[audit@32473 tenant_id="ac\\"me\\]" event_id="0190f1e2-7c3a-7d4e-8f10-123456789abc" event_type="customer\.account\.created"\] \uFEFF\{/,
    );
    expect(JSON.parse(msg.slice(msg.indexOf('\uFEFF') + 1))).toMatchObject({ event_id: event.event_id });
    const frame = octetFrame('é');
    expect(frame.toString('utf8')).toBe('2 é');
  });

  it('MSGID is at most 32 characters', () => {
    const long = { ...event, event_type: `a.${'b'.repeat(40)}` } as AuditEvent;
    const msgid = syslogMessage(long, { hostname: 'h', appName: 'a', sdId: 'x@1' }).split(' ')[5]!;
    expect(msgid).toHaveLength(32);
  });
});
