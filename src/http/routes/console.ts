/**
 * @module http/routes/console
 * Serves the web console (console/, built by `npm run build` into `dist/console/`) under `/console`:
 * - files of the build with their content type; hashed files under `assets/` are cached for a year
 *   (`immutable`), `index.html` is revalidated on every load (`no-cache`);
 * - any other path under `/console/` without a file extension is a client route: `index.html`;
 * - every answer carries a strict Content-Security-Policy (same origin only: no inline script or
 *   style, no CDN, no framing) and `nosniff`;
 * - when the console was not built, a short HTML page says how to build it (503), never a blank page;
 * - `/favicon.ico` and `/favicon.svg`: the icon, built in (no 404 in the browser's console).
 * The routes are public (the console signs in through the token API) and hidden from /openapi.json.
 */
import { existsSync } from 'node:fs'
import { readFile, realpath, stat } from 'node:fs/promises'
import { dirname, extname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply } from 'fastify'

export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
}

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OpenCTS console not built</title></head>
<body><h1>The OpenCTS console is not built</h1>
<p>The server found no console assets. Build them with <code>npm run build</code> (also run by
<code>npm install</code>), then reload this page. The API works without them.</p></body></html>
`

/** The console's icon (a trail of three dots on a dark square), served as SVG. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="6" fill="#1f3a5f"/>
<circle cx="8" cy="22" r="3" fill="#9fd3ff"/><circle cx="16" cy="16" r="3" fill="#cfe9ff"/>
<circle cx="24" cy="10" r="3" fill="#ffffff"/>
</svg>
`

/**
 * The folder of the built console: `dist/console` of the package this module belongs to (found by
 * walking up to the nearest package.json, so it works from `dist/` and from test builds alike).
 */
export function defaultConsoleDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 8; i += 1) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'dist', 'console')
    const parent = dirname(dir)
    if (parent === dir) break
    dir = parent
  }
  return resolve('dist', 'console')
}

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
}

/** The file under `root` that `relative` names, or null when it escapes root or is no file. */
async function fileUnder(root: string, relative: string): Promise<string | null> {
  if (relative.includes('\0')) return null
  const candidate = resolve(root, `.${sep}${relative}`)
  if (candidate !== root && !candidate.startsWith(root + sep)) return null
  try {
    const real = await realpath(candidate)
    const realRoot = await realpath(root)
    if (!real.startsWith(realRoot + sep)) return null
    return (await stat(real)).isFile() ? real : null
  } catch {
    return null
  }
}

export function registerConsoleRoutes(
  app: FastifyInstance,
  options: { readonly dir?: string } = {},
): void {
  const root = resolve(options.dir ?? defaultConsoleDir())
  const config = { auth: 'public' as const }
  const schema = { hide: true }

  async function sendIndex(reply: FastifyReply): Promise<FastifyReply> {
    const index = await fileUnder(root, 'index.html')
    if (index === null)
      return secure(reply)
        .code(503)
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(NOT_BUILT_PAGE)
    return secure(reply)
      .type(CONTENT_TYPES['.html'] ?? 'text/html')
      .header('cache-control', 'no-cache')
      .send(await readFile(index))
  }

  for (const url of ['/favicon.ico', '/favicon.svg'])
    app.get(url, { config, schema }, async (_request, reply) =>
      secure(reply)
        .type('image/svg+xml')
        .header('cache-control', 'public, max-age=86400')
        .send(FAVICON_SVG),
    )
  app.get('/console', { config, schema }, async (_request, reply) =>
    secure(reply).redirect('/console/', 302),
  )
  app.get<{ Params: { '*': string } }>('/console/*', { config, schema }, async (request, reply) => {
    let relative: string
    try {
      relative = decodeURIComponent(request.params['*'])
    } catch {
      relative = ''
    }
    const ext = extname(relative)
    if (relative === '' || relative === 'index.html' || ext === '') return sendIndex(reply)
    const file = await fileUnder(root, relative)
    if (file === null)
      return secure(reply)
        .code(404)
        .type('text/plain; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(`Not found: /console/${relative}\n`)
    const hashed = relative.startsWith('assets/')
    return secure(reply)
      .type(CONTENT_TYPES[ext.toLowerCase()] ?? 'application/octet-stream')
      .header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache')
      .send(await readFile(file))
  })
}
