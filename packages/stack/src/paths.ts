import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const deployDir = path.join(repoRoot, 'deploy');

export function stateDirs(stackDir: string) {
  return {
    root: stackDir,
    run: path.join(stackDir, 'run'),
    kafka: path.join(stackDir, 'kafka'),
    kafkaData: path.join(stackDir, 'kafka', 'data'),
    clickhouse: path.join(stackDir, 'clickhouse'),
    clickhouseData: path.join(stackDir, 'clickhouse', 'data'),
    logs: path.join(stackDir, 'logs'),
  };
}
