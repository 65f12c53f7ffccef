import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Debian's rsyslogd: the syslog stream tests deliver to a real one instead of a parser of ours. */
export const RSYSLOGD = process.env.RSYSLOGD_PATH ?? '/usr/sbin/rsyslogd';

const PACKAGES = 'rsyslog rsyslog-gnutls';

/**
 * The GnuTLS network stream driver ships in its own package (rsyslog-gnutls), so rsyslogd alone
 * cannot serve syslog over TLS: look for the driver module beside the other rsyslog modules.
 */
function hasTlsDriver(): boolean {
  const roots = ['/usr/lib', '/usr/lib64'].filter((d) => fs.existsSync(d));
  const dirs = roots.flatMap((root) => [
    path.join(root, 'rsyslog'),
    ...fs.readdirSync(root).map((sub) => path.join(root, sub, 'rsyslog')),
  ]);
  return dirs.some((dir) => fs.existsSync(path.join(dir, 'lmnsd_gtls.so')));
}

/**
 * Installs Debian's rsyslog and its TLS driver when missing and this process may (root,
 * apt-get), as ensureChromium does for the browser tests; anything else is a clear error.
 * Installing does not start a system rsyslogd where no init system runs (containers, CI): the
 * tests start their own, with their own configuration, as a child process.
 */
export function ensureRsyslog(): string {
  if (fs.existsSync(RSYSLOGD) && hasTlsDriver()) return RSYSLOGD;
  if (process.getuid?.() !== 0)
    throw new Error(
      `${RSYSLOGD} or its TLS driver is missing: install Debian's ${PACKAGES} (apt-get install -y ${PACKAGES})`,
    );
  execFileSync(
    'sh',
    [
      '-c',
      `apt-get install -y -q ${PACKAGES} >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q ${PACKAGES} >/dev/null)`,
    ],
    { stdio: 'inherit', timeout: 600_000 },
  );
  if (!fs.existsSync(RSYSLOGD) || !hasTlsDriver())
    throw new Error(`apt-get did not install ${RSYSLOGD} with its TLS driver (${PACKAGES})`);
  return RSYSLOGD;
}
