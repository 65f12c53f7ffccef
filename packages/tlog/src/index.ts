/**
 * @audit/tlog: the tamper-evidence primitives, dependency-free and browser-safe (SHA-256 in plain
 * JS or injected; Ed25519 verification through WebCrypto). Signing lives in `@audit/tlog/node`.
 */
export * from './bytes.ts';
export * from './checkpoint.ts';
export * from './event-proof.ts';
export * from './jcs.ts';
export * from './leaf.ts';
export * from './merkle.ts';
export * from './note.ts';
export { sha256 } from './sha256.ts';
export * from './verify.ts';
