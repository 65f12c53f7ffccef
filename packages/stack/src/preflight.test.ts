import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadLocalStackConfig } from './config.ts';
import { requireFreePort } from './preflight.ts';

describe('preflight', () => {
  let server: net.Server | undefined;
  afterEach(() => server?.close());

  it('names the process that holds a port', async () => {
    server = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => server?.once('listening', r));
    const port = (server.address() as net.AddressInfo).port;
    await expect(requireFreePort('127.0.0.1', port, 'Kafka broker')).rejects.toThrow(
      `port ${port} (Kafka broker) is in use by pid ${process.pid}`,
    );
  });

  it('passes for a free port', async () => {
    server = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => server?.once('listening', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((r) => server?.close(r));
    server = undefined;
    await expect(requireFreePort('127.0.0.1', port, 'x')).resolves.toBeUndefined();
  });
});

describe('local stack config', () => {
  it('derives ports from the shared endpoints', () => {
    const cfg = loadLocalStackConfig({
      KAFKA_BROKERS: '127.0.0.1:19092',
      CLICKHOUSE_URL: 'http://127.0.0.1:18123',
    });
    expect([cfg.kafkaPort, cfg.clickhouseHttpPort, cfg.KAFKA_CONTROLLER_PORT]).toEqual([19092, 18123, 9093]);
  });

  it('rejects a Kafka version that is not 4.x with the variable named', () => {
    expect(() => loadLocalStackConfig({ KAFKA_VERSION: '3.9.0' })).toThrow(
      /KAFKA_VERSION: must be a Kafka 4\.x version/,
    );
  });
});
