/** For the server side: where the built viewer is (`pnpm build` / bootstrap writes it). */
import { fileURLToPath } from 'node:url';

export const viewerDistDir = fileURLToPath(new URL('../dist/', import.meta.url));
