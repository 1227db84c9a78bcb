// Headless Chromium for the topology page's tests and bench: Debian's `chromium` (make test-tools installs it),
// driven by playwright-core, which never downloads a browser of its own. A fresh profile per launch, and none of
// Chromium's background connections (this machine has no network beyond its own).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.VNET_CHROMIUM ?? '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  /** A new tab; what it logs as errors (console errors, uncaught exceptions, CSP refusals) lands in `errors`. */
  page(): Promise<Page>;
  errors: string[];
  close(): Promise<void>;
}

/** Launches Chromium with a new empty profile (removed on close). */
export async function launchBrowser(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (make test-tools)`);
  const profile = mkdtempSync(join(tmpdir(), 'vnet-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1400, height: 900 },
  });
  const errors: string[] = [];
  return {
    context,
    errors,
    async page() {
      const page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console: ${m.text()}`);
      });
      page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
      return page;
    },
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** What the page publishes of its drawn graph (ui/app.js). */
export interface DrawnGraph {
  revision: number;
  firstDrawnMs: number;
  nodes: { id: string; kind: string; label: string; parent?: string; state: string }[];
  edges: { id: string; kind: string; source: string; target: string; label: string }[];
  /** Where each node is drawn, in CSS pixels from the graph box's top left corner. */
  positions: Record<string, { x: number; y: number }>;
}

/** What waitForNode answers of the drawing it waited for. */
export interface DrawnSummary {
  revision: number;
  firstDrawnMs: number;
  nodes: number;
  edges: number;
}

/**
 * Code run in the page is given as source text: tsx (esbuild) wraps named functions of this file in a `__name`
 * helper that does not exist in the page.
 */
const DRAWN = 'globalThis.vnetTopology ?? null';

/** The graph the page shows now (null before its first drawing). */
export function drawnGraph(page: Page): Promise<DrawnGraph | null> {
  return page.evaluate(DRAWN);
}

/**
 * In the page: resolves at the first drawing that shows node `want` (at once when the drawn graph has it), with
 * a summary of that drawing (not the whole graph: that would be a large answer to carry, into the measurement).
 */
const WAIT_FOR_NODE = `(want, ms) => new Promise((resolve, reject) => {
  const has = (g) => g != null && g.nodes.some((n) => n.id === want);
  const summary = (g) => ({ revision: g.revision, firstDrawnMs: g.firstDrawnMs, nodes: g.nodes.length, edges: g.edges.length });
  if (has(globalThis.vnetTopology)) return resolve(summary(globalThis.vnetTopology));
  const on = (ev) => {
    if (!has(ev.detail)) return;
    clearTimeout(timer);
    globalThis.removeEventListener('vnet:drawn', on);
    resolve(summary(ev.detail));
  };
  const timer = setTimeout(() => {
    globalThis.removeEventListener('vnet:drawn', on);
    reject(new Error('the page drew no node ' + want + ' within ' + ms + ' ms'));
  }, ms);
  globalThis.addEventListener('vnet:drawn', on);
})`;

/**
 * Resolves at the first drawing that shows node `id` (at once when the drawn graph has it): the page tells, no
 * polling, so a bench measures when the page drew it, not when a poll noticed.
 */
export function waitForNode(page: Page, id: string, timeoutMs = 20_000): Promise<DrawnSummary> {
  return page.evaluate(`(${WAIT_FOR_NODE})(${JSON.stringify(id)}, ${timeoutMs})`);
}
