import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A receiver's own TLS identity: the streamer trusts exactly this certificate (`ca`), nothing else. */
export interface SelfSignedCert {
  dir: string;
  certFile: string;
  keyFile: string;
  /** PEM of the self-signed certificate, i.e. the CA a client must trust. */
  ca: string;
  /** Deletes the key, the certificate and anything else the receiver kept in `dir`. */
  remove(): void;
}

/**
 * EC P-256 with SAN IP:127.0.0.1 and DNS:localhost, made by openssl as the query API's TLS test
 * does: a real certificate chain check in the client, not `rejectUnauthorized: false`.
 */
export function selfSignedCert(prefix: string): SelfSignedCert {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile];
  const subject = ['-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'];
  execFileSync('openssl', ['req', '-x509', ...key, '-out', certFile, '-days', '2', ...subject], {
    stdio: 'pipe',
  });
  return {
    dir,
    certFile,
    keyFile,
    ca: fs.readFileSync(certFile, 'utf8'),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
