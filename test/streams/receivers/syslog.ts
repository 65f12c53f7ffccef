import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import type { AuditEvent } from '@audit/schema';
import { ensureRsyslog, freePort } from '@audit/stack';
import { selfSignedCert } from './cert.ts';
import { checkAuditEvent, type Problem, parseJson } from './check.ts';
import { Ledger, type ReceivedRecords } from './ledger.ts';

/**
 * Syslog over TLS (RFC 5425: octet-counted RFC 5424 messages) received by a real rsyslogd, so
 * the framing and the header are judged by rsyslog's parser, not by one of ours. rsyslogd runs
 * as a child with a configuration of its own in a temp dir (no system config, no /dev/log) and
 * writes each message's parsed RFC 5424 parts as a JSON line; records() reads them back and
 * checks each against the stream contract.
 */
export interface SyslogReceiver {
  host: string;
  port: number;
  /** PEM the streamer must trust: rsyslogd's self-signed certificate. */
  ca: string;
  /** rsyslogd's own process id (not its watcher's), for tests that check it is gone. */
  pid: number;
  /** Every message rsyslogd wrote so far, as it parsed it. */
  messages(): SyslogMessage[];
  records(): ReceivedRecords;
  close(): Promise<void>;
}

/** One message as rsyslog's RFC 5424 parser split it (the template's field names). */
export interface SyslogMessage {
  pri: string;
  version: string;
  timestamp: string;
  hostname: string;
  app_name: string;
  procid: string;
  msgid: string;
  structured_data: string;
  msg: string;
  /** The whole message as received (after the octet count). */
  raw: string;
}

export const SYSLOG_SD_ID = 'audit@32473';
const BOM = '\uFEFF';

export async function startSyslogReceiver(): Promise<SyslogReceiver> {
  const rsyslogd = ensureRsyslog();
  const cert = selfSignedCert('syslog-receiver');
  const port = await freePort();
  const files = {
    conf: path.join(cert.dir, 'rsyslog.conf'),
    pid: path.join(cert.dir, 'rsyslogd.pid'),
    log: path.join(cert.dir, 'rsyslogd.log'),
    messages: path.join(cert.dir, 'messages.jsonl'),
  };
  fs.writeFileSync(files.conf, rsyslogConf(cert.dir, cert.certFile, cert.keyFile, port, files.messages));
  const child = spawnWatched(rsyslogd, files);
  try {
    await untilTlsAnswers(port, cert.ca, child, files.log);
  } catch (err) {
    await stopWatched(child, files.pid);
    cert.remove();
    throw err;
  }

  // rsyslog may be midway through writing a line: only lines it has ended are read.
  const messages = (): SyslogMessage[] => {
    if (!fs.existsSync(files.messages)) return [];
    const lines = fs.readFileSync(files.messages, 'utf8').split('\n');
    lines.pop();
    return lines.filter((line) => line !== '').map((line) => JSON.parse(line) as SyslogMessage);
  };
  return {
    host: '127.0.0.1',
    port,
    ca: cert.ca,
    pid: Number(fs.readFileSync(files.pid, 'utf8').trim()),
    messages,
    records: () => {
      const ledger = new Ledger();
      for (const m of messages()) {
        const event = checkSyslogMessage(m);
        if ('reason' in event) ledger.reject(event.reason, event.detail);
        else ledger.accept([event]);
      }
      return ledger.records();
    },
    close: async () => {
      await stopWatched(child, files.pid);
      cert.remove();
    },
  };
}

/**
 * RainerScript for one TLS listener on 127.0.0.1 whose messages go, through a JSON template of
 * the parsed parts, to one file. maxMessageSize: events are up to 64 KiB (the 8 KiB default
 * would truncate them); control characters are kept as sent so the event JSON is what arrived.
 */
function rsyslogConf(dir: string, certFile: string, keyFile: string, port: number, out: string): string {
  const field = (outname: string, name: string, extra = '') =>
    `  property(outname="${outname}" name="${name}" format="jsonf"${extra})`;
  return `global(
  workDirectory="${dir}"
  maxMessageSize="256k"
  parser.escapeControlCharactersOnReceive="off"
  defaultNetstreamDriver="gtls"
  defaultNetstreamDriverCAFile="${certFile}"
  defaultNetstreamDriverCertFile="${certFile}"
  defaultNetstreamDriverKeyFile="${keyFile}"
)
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
template(name="parsedParts" type="list" option.jsonf="on") {
${[
  field('pri', 'pri'),
  field('version', 'protocol-version'),
  field('timestamp', 'timereported', ' dateFormat="rfc3339"'),
  field('hostname', 'hostname'),
  field('app_name', 'app-name'),
  field('procid', 'procid'),
  field('msgid', 'msgid'),
  field('structured_data', 'structured-data'),
  field('msg', 'msg'),
  field('raw', 'rawmsg'),
].join('\n')}
}
ruleset(name="streams") {
  action(type="omfile" file="${out}" template="parsedParts")
}
input(type="imtcp" address="127.0.0.1" port="${port}" ruleset="streams")
`;
}

/**
 * rsyslogd under a shell that kills it when our end of its stdin closes: on close(), and also
 * when the test process dies in any way (even SIGKILL), since the kernel closes the pipe then.
 */
function spawnWatched(rsyslogd: string, files: { conf: string; pid: string; log: string }): ChildProcess {
  const script = [
    'exec 3<&0',
    '"$0" -n -f "$1" -i "$2" </dev/null & r=$!',
    '( read -r _ <&3; kill $r 2>/dev/null ) & w=$!',
    'wait $r; s=$?',
    'kill $w 2>/dev/null',
    'exit $s',
  ].join('\n');
  const log = fs.openSync(files.log, 'a');
  const child = spawn('sh', ['-c', script, rsyslogd, files.conf, files.pid], {
    stdio: ['pipe', log, log],
  });
  fs.closeSync(log);
  return child;
}

async function stopWatched(child: ChildProcess, pidFile: string): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin?.end();
  const graceful = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
  if (graceful) return;
  // rsyslogd ignored SIGTERM: end it and its watcher for good.
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  if (pid > 0) process.kill(pid, 'SIGKILL');
  child.kill('SIGKILL');
  await exited;
}

/** Ready when a TLS handshake with the receiver's certificate completes, not merely when the port opens. */
async function untilTlsAnswers(port: number, ca: string, child: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  const tail = () => fs.readFileSync(log, 'utf8').trim().split('\n').slice(-10).join('\n');
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`rsyslogd exited (${child.exitCode}):\n${tail()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`rsyslogd did not serve TLS on port ${port} within 15 s:\n${tail()}`);
}

/**
 * The stream contract on one parsed message: `<PRI>1`, app-name audit-log, MSGID the event type
 * (RFC 5424 allows 32 characters), [audit@32473 tenant_id event_id event_type] naming the event
 * in MSG, and MSG (after an optional BOM) the event's JSON.
 */
export function checkSyslogMessage(m: SyslogMessage): AuditEvent | Problem {
  const header = /^<(\d{1,3})>1 /.exec(m.raw);
  if (!header || Number(header[1]) > 191 || m.version !== '1')
    return { reason: 'badHeader', detail: `not an RFC 5424 header: ${m.raw.slice(0, 60)}` };
  if (m.app_name !== 'audit-log') return { reason: 'badAppName', detail: `app-name ${m.app_name}` };
  const text = m.msg.startsWith(BOM) ? m.msg.slice(BOM.length) : m.msg;
  const json = parseJson(text);
  if ('error' in json) return { reason: 'badMsg', detail: `MSG is not JSON: ${json.error}` };
  const event = checkAuditEvent(json.value);
  if (typeof event === 'string') return { reason: 'badMsg', detail: event };
  if (m.msgid !== event.event_type.slice(0, 32))
    return { reason: 'badMsgid', detail: `MSGID ${m.msgid} for event_type ${event.event_type}` };
  const sd = parseStructuredData(m.structured_data);
  if (typeof sd === 'string') return { reason: 'badStructuredData', detail: sd };
  const audit = sd.get(SYSLOG_SD_ID);
  for (const key of ['tenant_id', 'event_id', 'event_type'] as const)
    if (audit?.get(key) !== event[key])
      return {
        reason: 'badStructuredData',
        detail: `[${SYSLOG_SD_ID}] ${key} is not the event's ${event[key]}`,
      };
  return event;
}

/**
 * RFC 5424 STRUCTURED-DATA: `-` or `[SD-ID SP NAME="value" …]…`, where `"`, `\` and `]` in a
 * value must be backslash-escaped and an SD-ID may appear once.
 */
export function parseStructuredData(sd: string): Map<string, Map<string, string>> | string {
  const elements = new Map<string, Map<string, string>>();
  if (sd === '-') return elements;
  const name = /[\x21\x23-\x3c\x3e-\x5c\x5e-\x7e]{1,32}/y;
  let i = 0;
  const readName = () => {
    name.lastIndex = i;
    const m = name.exec(sd);
    if (m) i = name.lastIndex;
    return m?.[0];
  };
  while (i < sd.length) {
    if (sd[i++] !== '[') return `expected "[" at ${i - 1} in ${sd}`;
    const id = readName();
    if (!id) return `no SD-ID at ${i} in ${sd}`;
    if (elements.has(id)) return `SD-ID ${id} appears twice`;
    const params = new Map<string, string>();
    while (sd[i] === ' ') {
      i++;
      const param = readName();
      if (!param || sd.slice(i, i + 2) !== '="') return `bad SD-PARAM at ${i} in ${sd}`;
      i += 2;
      let value = '';
      while (i < sd.length && sd[i] !== '"') {
        const c = sd[i]!;
        const next = sd[i + 1];
        if (c === '\\' && (next === '"' || next === '\\' || next === ']')) {
          value += next;
          i += 2;
        } else if (c === ']') return `unescaped "]" in the value of ${param}`;
        else {
          value += c;
          i++;
        }
      }
      if (sd[i++] !== '"') return `unterminated value of ${param}`;
      params.set(param, value);
    }
    if (sd[i++] !== ']') return `expected "]" at ${i - 1} in ${sd}`;
    elements.set(id, params);
  }
  return elements;
}
