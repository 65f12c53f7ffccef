import { describe, expect, it } from 'vitest';
import { generateStreamsKeyPair, openSecret, openSecrets, sealSecret } from './secrets.ts';

describe('sealed stream secrets', () => {
  const pair = generateStreamsKeyPair();

  it('open what was sealed to the public key, with the private key only', () => {
    const box = sealSecret(pair.publicKey, '{"token":"hec-1"}');
    expect(box).not.toContain('hec-1');
    expect(openSecret(pair.privateKey, box)).toBe('{"token":"hec-1"}');
    // Two seals of one text differ (ephemeral key, IV).
    expect(sealSecret(pair.publicKey, 'x')).not.toBe(sealSecret(pair.publicKey, 'x'));
    expect(() => openSecret(generateStreamsKeyPair().privateKey, box)).toThrow();
  });

  it('refuses a box with any byte changed', () => {
    const box = sealSecret(pair.publicKey, 'secret');
    const parts = box.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    parts[3] = body.toString('base64url');
    expect(() => openSecret(pair.privateKey, parts.join('.'))).toThrow();
    expect(() => openSecret(pair.privateKey, 'v2.a.b.c')).toThrow('not a sealed secret');
  });

  it('a rotation keeps the previous signing secrets until its grace ends', () => {
    const old = sealSecret(pair.publicKey, JSON.stringify({ signing: [{ secret: 'whsec_old' }] }));
    const rotated = sealSecret(
      pair.publicKey,
      JSON.stringify({ signing: [{ secret: 'whsec_new' }], previous: { box: old, until: 2000 } }),
    );
    expect(openSecrets(pair.privateKey, rotated, 1000).signing).toEqual([
      { secret: 'whsec_new' },
      { secret: 'whsec_old', until: 2000 },
    ]);
    expect(openSecrets(pair.privateKey, rotated, 2000).signing).toEqual([{ secret: 'whsec_new' }]);
    expect(openSecrets(pair.privateKey, rotated, 1000)).not.toHaveProperty('previous');
  });
});
