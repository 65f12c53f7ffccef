import type { DestinationSecrets, NetworkPolicy, PublicDestination } from '@audit/streams';
import { HttpSender } from './http.ts';
import type { Sender } from './sender.ts';
import { SyslogSender } from './syslog.ts';

export type { SendContext, Sender, SendResult } from './sender.ts';

export interface SenderOptions {
  streamId: string;
  tenantId: string;
  destination: PublicDestination;
  secrets: DestinationSecrets;
  policy: NetworkPolicy;
  timeoutMs: number;
  hostname: string;
}

export function createSender(o: SenderOptions): Sender {
  const d = o.destination;
  if (d.type === 'syslog') return new SyslogSender(d, o);
  return new HttpSender({ ...o, destination: d });
}
