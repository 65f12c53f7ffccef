#!/usr/bin/env node
/**
 * What `npm start` and `npm test` run on a machine that has Node (with its bundled npm and
 * Corepack) but no pnpm: makes the pnpm that package.json pins (`packageManager`) available,
 * installs the dependencies, then runs the command with that pnpm and the workspace's bins on
 * PATH. Plain Node, no dependencies: nothing is installed yet when it runs.
 *
 *   node scripts/bootstrap.mjs <command> [args…]   # e.g. tsx scripts/start.ts, vitest run
 *   node scripts/bootstrap.mjs                      # pnpm + install only (.ci/run), then PATH=.local/bin:$PATH
 *
 * pnpm comes from, in this order: a `pnpm` on PATH of exactly the pinned version; Corepack
 * (`corepack pnpm@<version>+sha512.<hash>`, no `corepack enable`, so nothing is written outside
 * the repository but Corepack's download cache); `npm exec pnpm@<version>` when Node ships no
 * Corepack (Node 25+). The Corepack download is checked against the checksum pnpm-lock.yaml
 * records for that pnpm version. Without a pnpm on PATH a shim `.local/bin/pnpm` is written, so
 * that scripts and tests that call `pnpm` find the same one.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shimDir = path.join(root, '.local', 'bin');

function fail(message) {
  console.error(`bootstrap: ${message}`);
  process.exit(1);
}

function requireNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    fail(`Node 20.19 or newer is needed (found ${process.versions.node}).`);
  }
}

/** `pnpm@12.4.2` (or with a `+sha512.<hex>` suffix) from package.json. */
function pinnedPnpm() {
  const pm = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).packageManager ?? '';
  const m = /^pnpm@(\d+\.\d+\.\d+)(\+sha\d+\.[0-9a-f]+)?$/.exec(pm);
  if (!m) fail(`package.json "packageManager" must pin pnpm as pnpm@x.y.z (found "${pm}").`);
  return { version: m[1], hash: m[2] };
}

/**
 * The checksum pnpm recorded for its own package in pnpm-lock.yaml (`packageManagerDependencies`),
 * as Corepack's `+sha512.<hex>`: Corepack then verifies the download against it.
 */
function lockfileHash(version) {
  let lock = '';
  try {
    lock = fs.readFileSync(path.join(root, 'pnpm-lock.yaml'), 'utf8');
  } catch {
    return undefined;
  }
  const esc = version.replaceAll('.', '\\.');
  const m = new RegExp(
    `^  pnpm@${esc}:\\n    resolution: \\{integrity: sha512-([A-Za-z0-9+/]+=*)\\}`,
    'm',
  ).exec(lock);
  return m ? `+sha512.${Buffer.from(m[1], 'base64').toString('hex')}` : undefined;
}

function run(cmd, args, env = process.env) {
  return spawnSync(cmd, args, { cwd: root, env, encoding: 'utf8' });
}

const shellQuote = (s) => `'${s.replaceAll("'", `'\\''`)}'`;

/** How to run the pinned pnpm: argv prefix plus extra environment, or undefined when absent. */
function resolvePnpm({ version, hash }) {
  // Our own shim does not count: it may be a previous version's.
  const PATH = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => path.resolve(dir) !== shimDir)
    .join(path.delimiter);
  if (run('pnpm', ['--version'], { ...process.env, PATH }).stdout?.trim() === version) {
    return { argv: ['pnpm'], env: {}, onPath: true };
  }

  const corepack = [path.join(path.dirname(process.execPath), 'corepack'), 'corepack'].find(
    (c) => run(c, ['--version']).status === 0,
  );
  if (corepack) {
    const spec = `pnpm@${version}${hash ?? lockfileHash(version) ?? ''}`;
    const env = { COREPACK_ENABLE_DOWNLOAD_PROMPT: '0' };
    let probe = run(corepack, [spec, '--version'], { ...process.env, ...env });
    // pnpm ≥ 11 downloads its native binary on first use and checks npm's registry signature over
    // it. A registry that re-publishes packages (a mirror) carries no signatures at all; then the
    // binary is checked against the registry's checksum only, as `npm install` would. A signature
    // that is present but does not verify is still refused.
    if (probe.status !== 0 && /carries no npm registry signature/.test(probe.stderr)) {
      env.COREPACK_INTEGRITY_KEYS = '0';
      console.error('bootstrap: the npm registry serves pnpm without signatures; checking its checksum only');
      probe = run(corepack, [spec, '--version'], { ...process.env, ...env });
    }
    if (probe.status === 0 && probe.stdout.trim() === version) {
      return { argv: [corepack, spec], env, onPath: false };
    }
    console.error(`bootstrap: Corepack could not run ${spec}:\n${probe.stderr.trim()}`);
  }

  const npx = ['npm', 'exec', '--yes', `--package=pnpm@${version}`, '--', 'pnpm'];
  const probe = run(npx[0], [...npx.slice(1), '--version']);
  if (probe.status === 0 && probe.stdout.trim().split('\n').at(-1) === version) {
    return { argv: npx, env: {}, onPath: false };
  }
  return undefined;
}

/** `.local/bin/pnpm`, so that `pnpm` in scripts and tests is the pinned one. */
function writeShim(pnpm) {
  const text = [
    '#!/bin/sh',
    '# Written by scripts/bootstrap.mjs: the pnpm version package.json pins.',
    ...Object.entries(pnpm.env).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    `exec ${pnpm.argv.map(shellQuote).join(' ')} "$@"`,
    '',
  ].join('\n');
  const file = path.join(shimDir, 'pnpm');
  fs.mkdirSync(shimDir, { recursive: true });
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) fs.writeFileSync(file, text);
  fs.chmodSync(file, 0o755);
}

/** Newest modification time under `dir` (files only), 0 when absent. */
function newestMtime(dir) {
  let newest = 0;
  if (!fs.existsSync(dir)) return 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile())
      newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * The query API serves the web viewer's built files (`/ui`): build them when missing or older
 * than their sources, so a fresh clone's `npm start` and `npm test` have them.
 */
function buildViewer(env) {
  const dir = path.join(root, 'packages', 'viewer');
  const built = path.join(dir, 'web', 'audit-viewer.js');
  const sources = Math.max(
    newestMtime(path.join(dir, 'src')),
    ...['index.html', 'vite.config.ts', 'package.json'].map((f) => fs.statSync(path.join(dir, f)).mtimeMs),
  );
  if (fs.existsSync(built) && fs.statSync(built).mtimeMs >= sources) return;
  const r = spawnSync('pnpm', ['--filter', '@audit/viewer', 'exec', 'vite', 'build', '--logLevel', 'warn'], {
    cwd: root,
    env,
    stdio: 'inherit',
  });
  if (r.status !== 0) fail('building the web viewer (packages/viewer) failed');
}

function main() {
  requireNode();
  const pinned = pinnedPnpm();
  const pnpm = resolvePnpm(pinned);
  if (!pnpm) {
    fail(
      `pnpm ${pinned.version} is not on PATH and could not be fetched through Corepack or npm ` +
        '(is the npm registry reachable?).',
    );
  }
  const pathParts = [path.join(root, 'node_modules', '.bin'), process.env.PATH ?? ''];
  if (pnpm.onPath) fs.rmSync(path.join(shimDir, 'pnpm'), { force: true });
  else {
    writeShim(pnpm);
    pathParts.unshift(shimDir);
  }
  const env = { ...process.env, PATH: pathParts.join(path.delimiter) };

  const install = spawnSync('pnpm', ['install', '--frozen-lockfile'], { cwd: root, env, stdio: 'inherit' });
  if (install.status !== 0) process.exit(install.status ?? 1);
  buildViewer(env);

  const [cmd, ...args] = process.argv.slice(2);
  if (!cmd) return;
  const child = spawn(cmd, args, { cwd: root, env, stdio: 'inherit' });
  // Ctrl-C reaches the child through the terminal's process group by itself (passing it on too
  // would make it a second Ctrl-C): wait for the child instead of exiting under it. SIGTERM is
  // sent to this process alone (by npm, CI, a supervisor), so it is passed on.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  child.on('error', (err) => fail(`${cmd}: ${err.message}`));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 1);
  });
}

main();
