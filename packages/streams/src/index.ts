export {
  BATCH_LIMITS,
  type BatchSettings,
  batchInput,
  DATADOG_DEFAULT_URL,
  DEFAULT_SD_ID,
  DESTINATION_TYPES,
  type DestinationInput,
  type DestinationSecrets,
  type DestinationType,
  destinationInput,
  type PublicDestination,
  SIGNING_SECRET_RE,
  type SigningSecret,
  splitDestination,
} from './destinations.ts';
export { DATADOG_MAX_ENTRIES, datadogRequest } from './formats/datadog.ts';
export { splunkRequest } from './formats/splunk.ts';
export { octetFrame, SYSLOG_PRI, type SyslogContext, syslogMessage } from './formats/syslog.ts';
export {
  activeSecrets,
  newSigningSecret,
  signWebhook,
  type WebhookContext,
  webhookRequest,
} from './formats/webhook.ts';
export type { WireRequest } from './formats/wire.ts';
export {
  addressProblem,
  destinationProblem,
  isPrivateAddress,
  type NetworkPolicy,
  networkPolicy,
  streamsPolicySchema,
} from './network-policy.ts';
export {
  checkPrivateKey,
  checkPublicKey,
  generateStreamsKeyPair,
  openSecret,
  openSecrets,
  type StreamsKeyPair,
  sealSecret,
} from './secrets.ts';
export {
  nextVersion,
  STREAM_STATES,
  type StatusRow,
  type StreamRecord,
  type StreamState,
  type StreamStatus,
  StreamStore,
  streamsDdl,
  type TestResult,
} from './store.ts';
