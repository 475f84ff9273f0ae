/**
 * Vite build of the web console: `console/` → `dist/console/`, served by the server under
 * `/console/` (src/http/routes/console.ts). JSX is compiled for Preact by Vite's own transform (no
 * plugin). Everything is bundled: no CDN, no external font, no inline script (the CSP forbids them).
 */
import { defineConfig } from 'vite'

const here = decodeURIComponent(new URL('.', import.meta.url).pathname)

// Vite loads its configuration through a default export (allowed for this file in eslint.config.js).
export default defineConfig({
  root: here,
  base: '/console/',
  publicDir: false,
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: `${here}../dist/console`,
    emptyOutDir: true,
    assetsInlineLimit: 0,
    sourcemap: false,
    target: 'es2022',
    modulePreload: { polyfill: false },
  },
})
