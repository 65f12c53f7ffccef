import { type AuditEvent, uuidv7 } from '@audit/schema';
import type { StreamRecord } from '@audit/streams';

/**
 * What `POST /streams/{id}/test` delivers: a service record (`audit.stream.test`) of the stream's
 * tenant, never stored in the trail, sent through the same sender as the stream's events.
 */
export function testEvent(stream: StreamRecord, testId: string, now = new Date()): AuditEvent {
  const at = now.toISOString();
  return {
    event_id: uuidv7(),
    event_type: 'audit.stream.test',
    timestamp: at,
    received_at: at,
    tenant_id: stream.tenant_id,
    source: 'audit-log',
    user_id: 'streamer',
    actor_type: 'system',
    resource_type: 'stream',
    resource_id: stream.stream_id,
    action: 'test',
    outcome: 'success',
    schema_version: 1,
    event_details: {
      stream_id: stream.stream_id,
      test_id: testId,
      message: 'A test delivery of an audit log stream: the destination is reachable and accepts events.',
    },
  };
}
