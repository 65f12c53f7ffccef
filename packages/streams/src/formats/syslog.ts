import type { AuditEvent } from '@audit/schema';

/** facility 13 (log audit) × 8 + severity 6 (informational). */
export const SYSLOG_PRI = 13 * 8 + 6;
const BOM = '\uFEFF';

/** RFC 5424 §6.3.3: `"`, `\` and `]` are escaped with a backslash inside PARAM-VALUE. */
const paramValue = (v: string) => v.replace(/["\\\]]/g, (c) => `\\${c}`);

/** A PRINTUSASCII token of at most `max` characters, or the NILVALUE. */
function token(v: string, max: number): string {
  const t = v.replace(/[^!-~]/g, '').slice(0, max);
  return t === '' ? '-' : t;
}

export interface SyslogContext {
  hostname: string;
  appName: string;
  sdId: string;
}

/**
 * One event as an RFC 5424 message: the event's own timestamp, MSGID its type (≤ 32 characters),
 * tenant, id and type as structured data, and the event's JSON as the UTF-8 MSG (with the BOM the
 * RFC asks for).
 */
export function syslogMessage(e: AuditEvent, ctx: SyslogContext): string {
  const sd = `[${ctx.sdId} tenant_id="${paramValue(e.tenant_id)}" event_id="${paramValue(e.event_id)}" event_type="${paramValue(e.event_type)}"]`;
  return `<${SYSLOG_PRI}>1 ${e.timestamp} ${token(ctx.hostname, 255)} ${token(ctx.appName, 48)} - ${token(e.event_type, 32)} ${sd} ${BOM}${JSON.stringify(e)}`;
}

/** RFC 6587 / RFC 5425 octet counting: `<length in bytes> <message>`. */
export function octetFrame(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}
