import net from 'node:net';
import tls from 'node:tls';
import type { AuditEvent } from '@audit/schema';
import { type NetworkPolicy, octetFrame, type PublicDestination, syslogMessage } from '@audit/streams';
import { checkLiteralHost, guardedLookup, trustedCas } from './connect.ts';
import type { Sender, SendResult } from './sender.ts';

type Syslog = Extract<PublicDestination, { type: 'syslog' }>;

/**
 * RFC 5424 messages, octet-counted (RFC 6587 §3.4.1), over one kept TLS connection (RFC 5425).
 * A batch counts as delivered once the socket took all of it: plain syslog has no application
 * acknowledgement, so bytes in flight when a connection breaks can be lost unseen (RELP would
 * close that gap; docs/streams.md).
 */
export class SyslogSender implements Sender {
  private socket: net.Socket | undefined;
  private readonly lookup: net.LookupFunction;

  constructor(
    private readonly d: Syslog,
    private readonly o: { policy: NetworkPolicy; timeoutMs: number; hostname: string },
  ) {
    this.lookup = guardedLookup(o.policy);
  }

  async send(events: AuditEvent[]): Promise<SendResult> {
    const ctx = { hostname: this.o.hostname, appName: this.d.app_name, sdId: this.d.sd_id };
    const frames = Buffer.concat(events.map((e) => octetFrame(syslogMessage(e, ctx))));
    try {
      const socket = await this.connection();
      await this.write(socket, frames);
      return { ok: true };
    } catch (err) {
      this.drop();
      return { ok: false, error: String((err as Error).message ?? err) };
    }
  }

  private connection(): Promise<net.Socket> {
    const s = this.socket;
    if (s && !s.destroyed && s.writable) return Promise.resolve(s);
    this.drop();
    checkLiteralHost(this.d.host, this.o.policy);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no connection within ${this.o.timeoutMs} ms`));
      }, this.o.timeoutMs);
      const ready = () => {
        clearTimeout(timer);
        socket.off('error', failed);
        socket.on('error', () => this.drop());
        socket.on('close', () => {
          if (this.socket === socket) this.socket = undefined;
        });
        // Receivers send nothing; read anyway so a peer's data can never fill our buffers.
        socket.resume();
        this.socket = socket;
        resolve(socket);
      };
      const failed = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      const socket: net.Socket = this.d.tls
        ? tls.connect(
            {
              host: this.d.host,
              port: this.d.port,
              servername: this.d.server_name ?? (net.isIP(this.d.host) === 0 ? this.d.host : undefined),
              ca: trustedCas(this.d.ca),
              lookup: this.lookup,
            },
            ready,
          )
        : net.connect({ host: this.d.host, port: this.d.port, lookup: this.lookup }, ready);
      socket.once('error', failed);
    });
  }

  private write(socket: net.Socket, data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`write not taken within ${this.o.timeoutMs} ms`)),
        this.o.timeoutMs,
      );
      socket.write(data, (err) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      });
    });
  }

  private drop(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  close(): void {
    this.drop();
  }
}
