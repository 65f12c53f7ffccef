export { canonicalJson } from './canonical-json.ts';
export { eventContentHash } from './content-hash.ts';
export {
  DETAILS_NODE_TYPES,
  type DetailsColumns,
  type DetailsNodeType,
  detailsColumns,
  flattenDetails,
  isDetailsPath,
} from './details.ts';
export {
  type AuditEvent,
  type AuditEventMessage,
  auditEventSchema,
  type EventInput,
  eventInputSchema,
  UNKNOWN_FIELD_MESSAGE,
} from './event-schema.ts';
export { FILTER_OPERATORS, FILTERABLE_FIELDS, type FilterOperator } from './filter-language.ts';
export { idempotencyKeyEventId } from './idempotency-key.ts';
export type { Issue } from './issues.ts';
export { eventJsonSchema, eventJsonSchemaText } from './json-schema.ts';
export {
  DIRECT_KAFKA_SOURCE,
  type KafkaMessageResult,
  type KafkaMeta,
  kafkaEventId,
  validateKafkaMessage,
} from './kafka-message.ts';
export {
  COMMON_FIELDS,
  type CommonField,
  EVENT_TYPE_RE,
  isReservedEventType,
  LIMITS,
  MAX_DETAILS_PATH_LENGTH,
  OPTIONAL_STRING_FIELDS,
  RESERVED_EVENT_TYPE_PREFIX,
  UUID_RE,
} from './limits.ts';
export { normalizeEvent, serializeEvent } from './normalize.ts';
export { type ParseJsonResult, parseJson } from './parse-json.ts';
export { tenantTopicProblem } from './producer.ts';
export { futureProblem, retentionDaysProblem, retentionProblem } from './retention.ts';
export { textProblem } from './text.ts';
export { normalizeTimestamp, timestampMs } from './timestamp.ts';
export { uuidFromName, uuidv7 } from './uuid.ts';
export { eventSizeIssue, type ValidateEventResult, validateEvent } from './validate.ts';
