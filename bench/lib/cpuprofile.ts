import fs from 'node:fs';
import path from 'node:path';
import { round } from './report.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  functions: { name: string; where: string; selfMs: number; pct: number }[];
  modules: { module: string; selfMs: number; pct: number }[];
  lines: string[];
}

/** Which package or area a script URL belongs to, so self time adds up per dependency. */
export function moduleOf(url: string): string {
  if (!url) return '(native/VM)';
  if (url.startsWith('node:')) return 'node core';
  const pnpm = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pnpm) return pnpm[1]!;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const ours = /\/((?:services|packages)\/[^/]+)\//.exec(url);
  if (ours) return ours[1]!;
  return url;
}

/**
 * Self time per function and per module from a V8 `.cpuprofile` (written by `node --cpu-prof`):
 * each sample's time delta is charged to the node that was on top of the stack.
 */
export function summarizeCpuProfile(file: string, top = 20): ProfileSummary {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const fns = new Map<string, { name: string; where: string; us: number }>();
  const mods = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    total += us;
    const where = url
      ? `${url.replace(/^file:\/\/.*?\/(node_modules|services|packages)\//, '$1/')}:${lineNumber + 1}`
      : '';
    const key = `${functionName}@${where}`;
    const f = fns.get(key) ?? { name: functionName || '(anonymous)', where, us: 0 };
    f.us += us;
    fns.set(key, f);
    const mod = functionName.startsWith('(') ? functionName : moduleOf(url);
    mods.set(mod, (mods.get(mod) ?? 0) + us);
  }
  const pct = (us: number) => round((100 * us) / total, 1);
  const functions = [...fns.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((f) => ({ name: f.name, where: f.where, selfMs: round(f.us / 1000, 0), pct: pct(f.us) }));
  const modules = [...mods.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([module, us]) => ({ module, selfMs: round(us / 1000, 0), pct: pct(us) }));
  const lines = [
    `profile: ${round(total / 1000, 0)} ms sampled`,
    'self time by module:',
    ...modules.map((m) => `  ${String(m.pct).padStart(5)}%  ${String(m.selfMs).padStart(7)} ms  ${m.module}`),
    'top functions by self time:',
    ...functions.map(
      (f) => `  ${String(f.pct).padStart(5)}%  ${String(f.selfMs).padStart(7)} ms  ${f.name}  ${f.where}`,
    ),
  ];
  return { totalMs: round(total / 1000, 0), functions, modules, lines };
}

/**
 * `--cpu-prof` writes one profile per thread, and tsx runs its loader on a worker thread: the
 * main thread's profile is the largest one.
 */
export function mainThreadProfile(dir: string): string | undefined {
  try {
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => path.join(dir, f))
      .sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
  } catch {
    return undefined;
  }
}
