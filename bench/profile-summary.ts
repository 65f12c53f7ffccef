/**
 * Summarizes a V8 CPU profile: self time per module and the top functions.
 *   pnpm --filter @audit/bench exec tsx profile-summary.ts <file.cpuprofile> [top]
 */
import { summarizeCpuProfile } from './lib/cpuprofile.ts';

const [file, top] = process.argv.slice(2);
if (!file) {
  console.error('usage: tsx profile-summary.ts <file.cpuprofile> [top]');
  process.exit(2);
}
for (const line of summarizeCpuProfile(file, Number(top ?? 25)).lines) console.log(line);
