/**
 * Real receivers for the log-streams tests: each checks its wire format from the public spec
 * (never from the streamer's code), counts what it accepted and why it refused the rest.
 */
export { type SelfSignedCert, selfSignedCert } from './cert.ts';
export { checkAuditEvent } from './check.ts';
export { DATADOG_LIMITS, type DatadogReceiver, startDatadogReceiver } from './datadog.ts';
export type { Arrival, Fault, FaultMode, FaultSwitch } from './faults.ts';
export type { ReceivedRecords, Rejection } from './ledger.ts';
export {
  type SplunkReceiver,
  type SplunkReceiverOptions,
  splitConcatenated,
  startSplunkReceiver,
} from './splunk.ts';
export {
  checkSyslogMessage,
  parseStructuredData,
  SYSLOG_SD_ID,
  type SyslogMessage,
  type SyslogReceiver,
  startSyslogReceiver,
} from './syslog.ts';
export {
  startWebhookReceiver,
  type WebhookReceiver,
  type WebhookReceiverOptions,
  type WebhookRecords,
} from './webhook.ts';
