/**
 * `pnpm streams:keygen`: a new key pair for log-stream secrets. The private key goes to the
 * streamer (STREAMER_SECRETS_KEY or a file in STREAMER_SECRETS_KEY_FILE), the public key to the
 * query API (STREAMS_SECRETS_PUBLIC_KEY). Replacing the pair makes existing streams' secrets
 * unreadable: set their secrets again (POST /streams/{id}/secret) or recreate them.
 */
import { generateStreamsKeyPair } from '@audit/streams';

const pair = generateStreamsKeyPair();
console.log(`STREAMS_SECRETS_PUBLIC_KEY=${pair.publicKey}`);
console.log(`STREAMER_SECRETS_KEY=${pair.privateKey}`);
