/**
 * The local stack's log-streams key pair: generated on the first `npm start` into the stack's
 * state directory (git-ignored, mode 0600) and reused afterwards, so the secrets of streams made
 * before a restart still open. The query API gets the public half, the streamer the private one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { generateStreamsKeyPair, type StreamsKeyPair } from '@audit/streams';

export interface DevStreamsKey {
  /** The private key file, for STREAMER_SECRETS_KEY_FILE. */
  file: string;
  publicKey: string;
}

export function devStreamsKey(stackDir: string): DevStreamsKey {
  const dir = path.join(stackDir, 'streamer');
  const file = path.join(dir, 'secrets.key');
  const publicFile = path.join(dir, 'secrets.pub');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!fs.existsSync(file)) {
    const pair: StreamsKeyPair = generateStreamsKeyPair();
    fs.writeFileSync(publicFile, `${pair.publicKey}\n`);
    fs.writeFileSync(file, `${pair.privateKey}\n`, { mode: 0o600 });
  }
  return { file, publicKey: fs.readFileSync(publicFile, 'utf8').trim() };
}
