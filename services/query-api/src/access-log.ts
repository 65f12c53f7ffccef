import type { Principal } from '@audit/auth';
import type { RecordAction } from '@audit/credentials';
import type { Logger } from '@audit/http';
import type { Kafka } from '@audit/kafka';
import { createKafkaPublisher, createPublisherMetrics, type EventPublisher } from '@audit/publisher';
import { type AuditEvent, LIMITS, uuidv7 } from '@audit/schema';
import type { Context, MiddlewareHandler } from 'hono';
import type { Registry } from 'prom-client';

/**
 * The trail records who read it: every successful read of the query API (list, get, stats,
 * export, proofs) and every management action becomes an `audit.*` event in the acting tenant's
 * own trail, published to the events topic like any other event (so it is stored, sealed and
 * verifiable like the rest). The response is released only once Kafka acknowledged the record:
 * a read that cannot be recorded fails with 503 and returns nothing (docs/access-audit.md).
 */

/** `source` of the records the service writes itself. */
export const ACCESS_SOURCE = 'audit-log';
/** The raw query string kept in a record, cut beyond this many characters (`query_truncated`). */
export const MAX_RECORDED_QUERY = 4096;

/**
 * The publisher of access records: the ingest API's (group commit, acks=all, bounded wait), with
 * `timeoutMs` as QUERY_ACCESS_LOG_TIMEOUT_MS. Records are small and one per request.
 */
export function createAccessLog(o: {
  kafka: Kafka;
  topic: string;
  timeoutMs: number;
  logger: Logger;
  registry: Registry;
}): EventPublisher {
  return createKafkaPublisher({
    kafka: o.kafka,
    topic: o.topic,
    timeoutMs: o.timeoutMs,
    retryAfterSeconds: 5,
    maxPendingEvents: 10_000,
    compression: 'none',
    logger: o.logger,
    metrics: createPublisherMetrics(o.registry),
  });
}

export interface ReadNote {
  /** Events (or groups, or proofs) returned; undefined when not known up front (exports stream). */
  rows?: number;
  /** The one event read, for `GET /events/{id}`. */
  resourceId?: string;
  /** A read of only `audit.*` records: not recorded again (selectsOnlyAccessRecords). */
  accessRecordsOnly?: boolean;
}

declare module 'hono' {
  interface ContextVariableMap {
    accessRead?: ReadNote;
  }
}

/** Called by a read handler before it answers: what the record should say about this read. */
export function noteRead(c: Context, note: ReadNote): void {
  c.set('accessRead', note);
}

export interface RecordInput {
  eventType: string;
  principal: Principal;
  /** Tenant whose trail gets the record; the principal's own by default. */
  tenant?: string;
  action: string;
  resourceType: string;
  resourceId?: string;
  details: Record<string, unknown>;
}

/** One record of the service's own, for `publisher.publish` (always valid under the contract). */
export function accessEvent(c: Context, r: RecordInput, now = new Date()): AuditEvent {
  const p = r.principal;
  const at = now.toISOString();
  const event: AuditEvent = {
    event_id: uuidv7(),
    event_type: r.eventType,
    timestamp: at,
    received_at: at,
    tenant_id: r.tenant ?? p.tenant,
    source: ACCESS_SOURCE,
    user_id: p.subject,
    actor_type: p.pins !== undefined ? 'viewer' : p.keyId !== undefined ? 'api_key' : 'user',
    resource_type: r.resourceType,
    action: r.action,
    outcome: 'success',
    schema_version: 1,
    event_details: {
      request_id: c.get('requestId'),
      ...(p.keyId !== undefined ? { key_id: p.keyId } : {}),
      ...(p.tenant !== (r.tenant ?? p.tenant) ? { actor_tenant: p.tenant } : {}),
      // A viewer token's reads name the host that minted it and the filters it was held to.
      ...(p.actor !== undefined ? { minted_by: p.actor } : {}),
      ...(p.pins !== undefined ? { pins: p.pins } : {}),
      ...r.details,
    },
  };
  if (r.resourceId !== undefined) event.resource_id = r.resourceId.slice(0, LIMITS.MAX_FIELD_LENGTH);
  const ua = c.req.header('user-agent');
  if (ua) event.user_agent = ua.slice(0, LIMITS.MAX_USER_AGENT_LENGTH);
  return event;
}

/** The request's query string as sent (percent-encoded ASCII), bounded. */
function recordedQuery(c: Context): Record<string, unknown> {
  const search = new URL(c.req.url).search.replace(/^\?/, '');
  if (search.length <= MAX_RECORDED_QUERY) return { query: search };
  return { query: search.slice(0, MAX_RECORDED_QUERY), query_truncated: true };
}

/**
 * Records a successful read of `endpoint` (e.g. `GET /events`) after its handler ran and before
 * the response leaves: `audit.log.viewed`, or `audit.log.exported` for exports.
 */
export function recordReads(publisher: EventPublisher, endpoint: string): MiddlewareHandler {
  const eventType = endpoint === 'GET /events/export' ? 'audit.log.exported' : 'audit.log.viewed';
  return async (c, next) => {
    await next();
    if (c.res.status < 200 || c.res.status >= 300) return;
    const note = c.get('accessRead') ?? {};
    if (note.accessRecordsOnly) return;
    const event = accessEvent(c, {
      eventType,
      principal: c.var.principal,
      action: 'read',
      resourceType: 'audit_log',
      resourceId: note.resourceId,
      details: {
        endpoint,
        ...recordedQuery(c),
        ...(note.rows !== undefined ? { rows: note.rows } : {}),
      },
    });
    try {
      await publisher.publish([event]);
    } catch (err) {
      // Nothing of the answer goes out: an export's stream is cancelled (its query aborted).
      await c.res.body?.cancel().catch(() => {});
      throw err;
    }
  };
}

/**
 * Management actions (`audit.tenant.created`, `audit.key.revoked`, …): recorded in the trail of
 * the tenant acted on and, when the actor belongs to another tenant (operators), in the actor's
 * own, in one acknowledged send before the answer.
 */
export function recordAdminActions(publisher: EventPublisher): RecordAction {
  return async (c, a) => {
    const principal = c.var.principal;
    const [, resourceType = 'tenant', action = 'change'] = a.event_type.split('.');
    const record = (tenant: string) =>
      accessEvent(c, {
        eventType: a.event_type,
        principal,
        tenant,
        action,
        resourceType,
        details: a.details,
      });
    const events = [record(a.tenant)];
    if (principal.tenant !== a.tenant) events.push(record(principal.tenant));
    await publisher.publish(events);
  };
}
