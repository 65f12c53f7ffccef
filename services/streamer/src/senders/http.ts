import http from 'node:http';
import https from 'node:https';
import type { AuditEvent } from '@audit/schema';
import {
  type DestinationSecrets,
  datadogRequest,
  type NetworkPolicy,
  type PublicDestination,
  splunkRequest,
  type WireRequest,
  webhookRequest,
} from '@audit/streams';
import { checkLiteralHost, guardedLookup, trustedCas } from './connect.ts';
import { parseRetryAfter, type SendContext, type Sender, type SendResult } from './sender.ts';

type HttpDestination = Exclude<PublicDestination, { type: 'syslog' }>;

/** What is kept of an error answer's body: enough for the status API, never a whole page. */
const MAX_ERROR_BODY = 2048;
export const USER_AGENT = 'audit-log-streamer/0.1';

export interface HttpSenderOptions {
  streamId: string;
  tenantId: string;
  destination: HttpDestination;
  secrets: DestinationSecrets;
  policy: NetworkPolicy;
  timeoutMs: number;
  hostname: string;
}

/** Webhook, Splunk HEC and Datadog: one POST per batch over a kept-alive connection. */
export class HttpSender implements Sender {
  private readonly url: URL;
  private readonly agent: http.Agent;

  constructor(private readonly o: HttpSenderOptions) {
    this.url = new URL(o.destination.url);
    const lookup = guardedLookup(o.policy);
    this.agent =
      this.url.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, maxSockets: 2, lookup, ca: trustedCas(o.destination.ca) })
        : new http.Agent({ keepAlive: true, maxSockets: 2, lookup });
  }

  private request(events: AuditEvent[], ctx: SendContext): WireRequest {
    const d = this.o.destination;
    switch (d.type) {
      case 'webhook':
        return webhookRequest(events, {
          streamId: this.o.streamId,
          tenantId: this.o.tenantId,
          messageId: ctx.messageId,
          nowMs: ctx.nowMs,
          secrets: this.o.secrets.signing ?? [],
        });
      case 'splunk':
        return splunkRequest(events, d, this.o.secrets.token ?? '', this.o.hostname);
      case 'datadog':
        return datadogRequest(events, d, this.o.secrets.api_key ?? '', {
          streamId: this.o.streamId,
          hostname: this.o.hostname,
        });
    }
  }

  async send(events: AuditEvent[], ctx: SendContext): Promise<SendResult> {
    try {
      checkLiteralHost(this.url.hostname, this.o.policy);
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
    const req = this.request(events, ctx);
    const body = Buffer.from(req.body, 'utf8');
    try {
      const res = await post(
        this.url,
        body,
        { ...req.headers, 'user-agent': USER_AGENT },
        this.agent,
        this.o.timeoutMs,
      );
      if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
      return {
        ok: false,
        status: res.status,
        error: `HTTP ${res.status}${res.body ? `: ${res.body}` : ''}`,
        retryAfterMs: parseRetryAfter(res.retryAfter, Date.now()),
        tooLarge: res.status === 413,
      };
    } catch (err) {
      return { ok: false, error: String((err as Error).message ?? err) };
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

interface Answer {
  status: number;
  body: string;
  retryAfter?: string;
}

/** One POST with a deadline over the whole exchange: a receiver that hangs is a failure. */
function post(
  url: URL,
  body: Buffer,
  headers: Record<string, string>,
  agent: http.Agent,
  timeoutMs: number,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, {
      method: 'POST',
      agent,
      headers: { ...headers, 'content-length': String(body.length) },
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_ERROR_BODY) chunks.push(c);
        size += c.length;
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks)
          .toString('utf8')
          .slice(0, MAX_ERROR_BODY)
          .replace(/\s+/g, ' ')
          .trim();
        const retryAfter = res.headers['retry-after'];
        resolve({
          status: res.statusCode ?? 0,
          body: text,
          retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        });
      });
    });
    req.end(body);
  });
}
