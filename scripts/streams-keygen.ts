/**
 * `pnpm streams:keygen`: a new key pair for log-stream secrets. The private key goes to the
 * streamer (STREAMER_SECRETS_KEY or a file in STREAMER_SECRETS_KEY_FILE), the public key to the
 * query API (STREAMS_SECRETS_PUBLIC_KEY). Replacing the pair makes existing streams' secrets
 * unreadable: set their secrets again (POST /streams/{id}/secret) or recreate them.
 *
 * `--compose`: for docker-compose.yml instead — the private key into the git-ignored secret file
 * `.local/compose/streamer-secrets.key`, the public key into `.env` (which compose reads).
 */
import fs from 'node:fs';
import path from 'node:path';
import { generateStreamsKeyPair } from '@audit/streams';

const pair = generateStreamsKeyPair();
if (process.argv.includes('--compose')) {
  const keyFile = path.join('.local', 'compose', 'streamer-secrets.key');
  fs.mkdirSync(path.dirname(keyFile), { recursive: true });
  // 0644: compose bind-mounts the file as it is, and the streamer runs as uid 1000.
  fs.writeFileSync(keyFile, `${pair.privateKey}\n`, { mode: 0o644 });
  const envFile = '.env';
  const lines = fs.existsSync(envFile)
    ? fs
        .readFileSync(envFile, 'utf8')
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('STREAMS_SECRETS_PUBLIC_KEY='))
    : [];
  lines.push(`STREAMS_SECRETS_PUBLIC_KEY=${pair.publicKey}`);
  fs.writeFileSync(envFile, `${lines.join('\n')}\n`);
  console.log(`wrote ${keyFile} (streamer) and STREAMS_SECRETS_PUBLIC_KEY in ${envFile} (query-api)`);
} else {
  console.log(`STREAMS_SECRETS_PUBLIC_KEY=${pair.publicKey}`);
  console.log(`STREAMER_SECRETS_KEY=${pair.privateKey}`);
}
