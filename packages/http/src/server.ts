import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import type { Logger } from './logger.ts';

export interface RunningServer {
  port: number;
  url: string;
  /** Stops accepting connections and waits for in-flight requests to finish. */
  close(): Promise<void>;
}

/** PEM files of the certificate (chain) and its private key; read once at start-up. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** Serves `fetch` over HTTP, or HTTPS when `tls` is given (TLS terminated by the service itself). */
export function startServer(
  fetch: (req: Request) => Response | Promise<Response>,
  opts: { port: number; host: string; tls?: TlsFiles },
): Promise<RunningServer> {
  const tls = opts.tls && {
    createServer: https.createServer,
    serverOptions: {
      cert: readPem(opts.tls.certFile, 'TLS_CERT_FILE'),
      key: readPem(opts.tls.keyFile, 'TLS_KEY_FILE'),
    },
  };
  return new Promise((resolve, reject) => {
    let server: ServerType;
    const onError = (err: Error) => reject(err);
    server = serve({ fetch, port: opts.port, hostname: opts.host, ...tls }, (info: AddressInfo) => {
      server.off('error', onError);
      resolve({
        port: info.port,
        url: `${tls ? 'https' : 'http'}://${opts.host}:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // Idle keep-alive sockets would hold close() open forever.
            (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
          }),
      });
    });
    server.once('error', onError);
  });
}

/** A missing or unreadable file names its setting rather than failing deep inside TLS. */
function readPem(file: string, setting: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new Error(`${setting}: cannot read ${file}: ${(err as Error).message}`);
  }
}

/**
 * Runs `stop` once on SIGTERM/SIGINT, then exits. A second signal forces exit, so an operator
 * is never stuck behind a hung flush.
 */
export function onShutdown(logger: Logger, stop: () => Promise<void>, timeoutMs = 30_000) {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
