import type { AuditEvent } from './event-schema.ts';
import type { Issue } from './issues.ts';
import { isReservedEventType } from './limits.ts';

/**
 * A tenant's own topic carries that tenant's events only: its principal can write nothing else,
 * and the tenant_id inside must agree, or one tenant could plant events in another's trail. System
 * event types (`audit.*`) come from the services on the events topic, never from a tenant. Every
 * reader of the topics (the sink, the streamer) applies this same rule.
 */
export function tenantTopicProblem(
  event: AuditEvent,
  topicTenant: string,
): { reason: 'tenant_mismatch' | 'reserved_type'; issue: Issue } | undefined {
  if (event.tenant_id !== topicTenant) {
    return {
      reason: 'tenant_mismatch',
      issue: {
        path: 'tenant_id',
        message: `tenant_id ${JSON.stringify(event.tenant_id)} on the topic of tenant ${JSON.stringify(topicTenant)}`,
      },
    };
  }
  if (isReservedEventType(event.event_type)) {
    return {
      reason: 'reserved_type',
      issue: {
        path: 'event_type',
        message: `event_type ${JSON.stringify(event.event_type)} is reserved for the service's own records`,
      },
    };
  }
  return undefined;
}
