import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  extension,
  FormatError,
  formatCheckpoint,
  NoteError,
  openNote,
  parseCheckpoint,
  parseNote,
  parseVerifierKey,
  sha256,
  TreeHasher,
  toBase64,
  utf8,
} from '../src/index.ts';
import { generateNoteKey, NoteSigner } from '../src/node.ts';

// golang.org/x/mod/sumdb/note note_test.go: keys, text and the signatures Go produced.
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG =
  '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG =
  '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

const peter = parseVerifierKey(sha256, PETER_VKEY);
const enoch = parseVerifierKey(sha256, ENOCH_VKEY);

describe("signed notes against Go's sumdb/note vectors", () => {
  it('parses the verifier keys and rejects every mangling (as TestNewVerifier)', () => {
    expect(peter).toMatchObject({ name: 'PeterNeumann', keyHash: 'c74f20a3' });
    expect(peter.publicKey.length).toBe(32);
    const bad = (k: string) => expect(() => parseVerifierKey(sha256, k), k).toThrow(NoteError);
    for (let i = 0; i < PETER_VKEY.length; i++) {
      for (let j = i + 1; j <= PETER_VKEY.length; j++)
        if (i !== 0 || j !== PETER_VKEY.length) bad(PETER_VKEY.slice(i, j));
    }
    for (let i = 0; i < PETER_VKEY.length; i++) {
      bad(
        PETER_VKEY.slice(0, i) + String.fromCharCode(PETER_VKEY.charCodeAt(i) + 1) + PETER_VKEY.slice(i + 1),
      );
    }
    bad('PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==');
    bad('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW');
  });

  it('signs byte-for-byte as Go does (Ed25519 is deterministic), and derives the same public key', () => {
    const signer = new NoteSigner(PETER_SKEY);
    expect(signer.verifierKey).toBe(PETER_VKEY);
    expect(signer.sign(TEXT)).toBe(`${TEXT}\n${PETER_SIG}`);
  });

  it('opens notes as note.Open does: known keys verify, unknown ones are set aside', async () => {
    const msg = `${TEXT}\n${PETER_SIG}${ENOCH_SIG}`;
    const one = await openNote(msg, [peter]);
    expect(one.text).toBe(TEXT);
    expect(one.verified.map((v) => v.key.name)).toEqual(['PeterNeumann']);
    expect(one.unknown.map((s) => [s.name, s.keyHash])).toEqual([['EnochRoot', 'af0cfe78']]);
    const both = await openNote(msg, [peter, enoch]);
    expect(both.verified.map((v) => v.key.name)).toEqual(['PeterNeumann', 'EnochRoot']);
    await expect(openNote(msg, [])).rejects.toThrow('note has no verifiable signatures');
    await expect(openNote(`${TEXT}\n${ENOCH_SIG}`, [enoch, peter, enoch])).rejects.toThrow(
      'ambiguous key EnochRoot+af0cfe78',
    );
    await expect(
      openNote(`${TEXT}\n${PETER_SIG.slice(0, 60)}ABCD${PETER_SIG.slice(60)}`, [peter]),
    ).rejects.toThrow('invalid signature for key PeterNeumann+c74f20a3');
    // A changed text no longer verifies.
    await expect(openNote(`${TEXT.replace('answer', 'Answer')}\n${PETER_SIG}`, [peter])).rejects.toThrow(
      'invalid signature',
    );
  });

  it('rejects the malformed messages of TestOpen', () => {
    for (const m of [
      TEXT,
      `${TEXT}\n`,
      `${TEXT}\n${PETER_SIG.slice(0, -1)}`,
      `\u0001${TEXT}\n${PETER_SIG}`,
      `${TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=`,
      `${TEXT}\n${PETER_SIG}Unexpected line.\n`,
      `${TEXT}\n${PETER_SIG.repeat(101)}`,
    ]) {
      expect(() => parseNote(m), JSON.stringify(m.slice(-40))).toThrow('malformed note');
    }
  });

  it('generated keys round-trip through the Go formats', async () => {
    const k = generateNoteKey('audit.example/sealer');
    const signer = new NoteSigner(k.privateKey);
    expect(signer.verifierKey).toBe(k.verifierKey);
    const v = parseVerifierKey(sha256, k.verifierKey);
    const opened = await openNote(signer.sign('hello\n'), [v]);
    expect(opened.text).toBe('hello\n');
    expect(() => new NoteSigner(k.privateKey.replace(/\+[0-9a-f]{8}\+/, '+00000000+'))).toThrow('key hash');
  });
});

describe('C2SP tlog-checkpoint', () => {
  it('parses the spec example and round-trips extension lines', () => {
    const body = 'example.com/origin\n923748\nnND/nri/U0xuHUrYSy0HtMeal2vzD9V4k/BO79C+QeI=\n';
    const c = parseCheckpoint(body);
    expect(c).toMatchObject({ origin: 'example.com/origin', size: 923748, extensions: [] });
    expect(formatCheckpoint(c)).toBe(body);
    const withExt = formatCheckpoint({ ...c, extensions: ['time 2026-01-01T00:00:00.000Z', 'prev 5 AAAA'] });
    expect(extension(parseCheckpoint(withExt), 'prev')).toBe('5 AAAA');
  });

  it("reads Go's sumdb tree note (sumdb/tlog note_test.go) as a checkpoint", () => {
    const c = parseCheckpoint(
      'go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n',
    );
    expect(c.size).toBe(123456789012);
    expect(toBase64(c.rootHash)).toBe(toBase64(new TreeHasher(sha256).leafHash(utf8('hello world'))));
  });

  it('rejects malformed checkpoints', () => {
    for (const bad of [
      'origin\n12\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=',
      'origin\n0x12\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n',
      'origin\n012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n',
      'origin\n12\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n',
      'origin\n12\nAAAA\n',
      '\n12\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n',
      'origin\n12\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n\n',
    ]) {
      expect(() => parseCheckpoint(bad), JSON.stringify(bad)).toThrow(FormatError);
    }
  });
});

describe('RFC 8785 canonical JSON', () => {
  it('sorts keys by UTF-16 code units (RFC 8785 §3.2.3 example)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    const order = Object.keys(JSON.parse(canonicalJson(input)) as object);
    // JSON.parse puts the integer-like key first whatever the text says; compare the text order.
    const text = canonicalJson(input);
    const positions = ['\\r', '"1"', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'].map((k) =>
      text.indexOf(k),
    );
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(order.length).toBe(7);
  });

  it('serialises numbers and literals as RFC 8785 §3.2.2 (ECMAScript) does', () => {
    expect(canonicalJson({ b: [56, { d: true, '10': null, '1': [] }], a: 'x' })).toBe(
      '{"a":"x","b":[56,{"1":[],"10":null,"d":true}]}',
    );
    expect(canonicalJson([1e21, 1e-7, 0.000001, -0, 333333333.3333333])).toBe(
      '[1e+21,1e-7,0.000001,0,333333333.3333333]',
    );
  });
});
