// GET /ui: the live topology page (docs/ui.md) — static files from the repository's ui/ folder and cytoscape's
// prebuilt browser module from node_modules, each a declared route of its own (a fixed list: no file name comes
// from a request, so nothing outside that list can be reached). Their access is `page`: the files hold no data,
// a browser cannot send a token with a navigation, and the page then reads the API with its own token (or none,
// from a loopback browser of a local-trust server). The guard still checks Host and the rate.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { type RouteOptions, Routes } from './context.js';

/** The repository's ui/ folder: the same path from src/server/routes and dist/server/routes. */
const UI_DIR = fileURLToPath(new URL('../../../ui/', import.meta.url));

const TYPES = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
} as const;

/**
 * Scripts and styles only from this server's files, requests only to it (the API and the feed), no frames, no
 * forms, no inline script or style; cytoscape draws on a canvas.
 */
export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface UiFile {
  url: string;
  type: keyof typeof TYPES;
  /** Its path on disk (resolved when first asked). */
  path: () => string;
}

const uiFile = (url: string, name: string, type: keyof typeof TYPES): UiFile => ({
  url,
  type,
  path: () => join(UI_DIR, name),
});

/** cytoscape's ES module build, found through node's resolution of the package (wherever npm put it). */
function cytoscapeModule(): string {
  const main = createRequire(import.meta.url).resolve('cytoscape');
  return join(dirname(main), 'cytoscape.esm.min.mjs');
}

/** Every file the page is made of: nothing else under /ui is served. */
export const UI_FILES: readonly UiFile[] = [
  uiFile('/ui', 'index.html', 'html'),
  uiFile('/ui/', 'index.html', 'html'),
  uiFile('/ui/app.js', 'app.js', 'js'),
  uiFile('/ui/model.js', 'model.js', 'js'),
  uiFile('/ui/feed.js', 'feed.js', 'js'),
  uiFile('/ui/style.css', 'style.css', 'css'),
  { url: '/ui/vendor/cytoscape.esm.min.js', type: 'js', path: cytoscapeModule },
];

/** File contents, read once per process (the page is a few hundred KiB, cytoscape most of it). */
const cache = new Map<string, Promise<Buffer>>();

function contents(file: UiFile): Promise<Buffer> {
  let c = cache.get(file.url);
  if (!c) {
    c = readFile(file.path());
    // A failed read (a checkout without ui/) is not remembered: the next request tries again.
    c.catch(() => cache.delete(file.url));
    cache.set(file.url, c);
  }
  return c;
}

export async function uiRoutes(app: FastifyInstance, opts: RouteOptions): Promise<void> {
  const r = new Routes(app, opts);
  for (const file of UI_FILES) {
    r.add({
      method: 'GET',
      url: file.url,
      root: true,
      tag: 'ui',
      summary:
        file.type === 'html'
          ? 'The live topology page (hosts, networks, routers, interfaces; traces)'
          : `The topology page's ${file.url.slice(4)}`,
      access: 'page',
      handler: async ({ reply }) => {
        const body = await contents(file);
        reply
          .type(TYPES[file.type])
          .header('content-security-policy', UI_CSP)
          .header('x-content-type-options', 'nosniff')
          .header('referrer-policy', 'no-referrer')
          .header('cache-control', 'no-cache');
        return body;
      },
    });
  }
}
