import fs from 'node:fs';
import { parseVerifierKey, sha256 } from '@audit/tlog';
import { NoteSigner } from '@audit/tlog/node';
import type { SealerConfig } from './config.ts';

/**
 * The signing key lives only in the sealer's process: from SEALER_SIGNING_KEY (an injected
 * secret) or SEALER_SIGNING_KEY_FILE (a mounted secret file). Rotation: start with a new key and
 * list the old verifier keys in SEALER_OLD_VERIFIER_KEYS; every checkpoint names its key.
 */
export function loadSigner(cfg: SealerConfig): NoteSigner {
  let text = cfg.SEALER_SIGNING_KEY;
  if (text === '' && cfg.SEALER_SIGNING_KEY_FILE !== '') {
    try {
      text = fs.readFileSync(cfg.SEALER_SIGNING_KEY_FILE, 'utf8').trim();
    } catch (err) {
      throw new Error(
        `SEALER_SIGNING_KEY_FILE: cannot read ${cfg.SEALER_SIGNING_KEY_FILE}: ${(err as Error).message}`,
      );
    }
  }
  if (text === '') throw new Error('no signing key: set SEALER_SIGNING_KEY or SEALER_SIGNING_KEY_FILE');
  return new NoteSigner(text);
}

/** Every verifier key to publish: the current one first, then the retired ones (validated). */
export function verifierKeys(
  cfg: SealerConfig,
  signer: NoteSigner,
): { verifier_key: string; key_id: string }[] {
  const old = cfg.SEALER_OLD_VERIFIER_KEYS.map((k) => {
    const v = parseVerifierKey(sha256, k);
    return { verifier_key: v.text, key_id: `${v.name}+${v.keyHash}` };
  });
  return [{ verifier_key: signer.verifierKey, key_id: `${signer.name}+${signer.keyHash}` }, ...old];
}
