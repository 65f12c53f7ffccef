import { defineConfig } from 'vite';

/**
 * Two entries: the /ui page (index.html) and `audit-viewer.js`, the element alone at a stable
 * name a host page can load with one <script type="module">. Everything is bundled: no CDN.
 */
export default defineConfig({
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    // Not dist/: in the service image's bundle, ../web/ beside dist/main.js is where it is copied.
    outDir: 'web',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    rolldownOptions: {
      input: { index: 'index.html', 'audit-viewer': 'src/element.tsx' },
      output: {
        entryFileNames: (chunk) =>
          chunk.name === 'audit-viewer' ? 'audit-viewer.js' : 'assets/[name]-[hash].js',
      },
    },
  },
});
