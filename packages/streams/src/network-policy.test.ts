import { describe, expect, it } from 'vitest';
import { destinationProblem, isPrivateAddress } from './network-policy.ts';

const strict = { allowPrivate: false, allowPlaintext: false };

describe('the destination network policy', () => {
  it('knows private and special-purpose addresses, v4, v6 and v4-mapped', () => {
    for (const ip of [
      '127.0.0.1',
      '10.1.2.3',
      '172.31.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:169.254.169.254',
      'not-an-ip',
    ]) {
      expect(isPrivateAddress(ip), ip).toBe(true);
    }
    for (const ip of ['8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) {
      expect(isPrivateAddress(ip), ip).toBe(false);
    }
  });

  it('refuses plaintext, literal private addresses and loopback names unless the operator allows them', () => {
    const hook = (url: string) => ({ type: 'webhook' as const, url });
    expect(destinationProblem(hook('https://siem.example.com/in'), strict)).toBeUndefined();
    expect(destinationProblem(hook('http://siem.example.com/in'), strict)).toMatch(/https/);
    expect(destinationProblem(hook('https://127.0.0.1:8123/'), strict)).toMatch(/private/);
    expect(destinationProblem(hook('https://[::1]/'), strict)).toMatch(/private/);
    expect(destinationProblem(hook('https://localhost/'), strict)).toMatch(/loopback/);
    expect(
      destinationProblem(hook('https://127.0.0.1/'), { allowPrivate: true, allowPlaintext: false }),
    ).toBeUndefined();
    const syslog = {
      type: 'syslog' as const,
      host: '10.0.0.5',
      port: 6514,
      tls: false,
      app_name: 'a',
      sd_id: 'x@1',
    };
    expect(destinationProblem(syslog, strict)).toMatch(/TLS/);
    expect(destinationProblem({ ...syslog, tls: true }, strict)).toMatch(/private/);
  });
});
