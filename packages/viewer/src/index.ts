/** For the server side: where the built viewer is (bootstrap and `pnpm build` write it; the image copies it). */
import { fileURLToPath } from 'node:url';

export const viewerDistDir = fileURLToPath(new URL('../web/', import.meta.url));

/**
 * The page's Content-Security-Policy: scripts and styles only from the API's origin (the
 * element styles itself through a constructed style sheet, which CSP does not block), API
 * calls to the same origin, blob: for the export download.
 */
export const VIEWER_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data: blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
