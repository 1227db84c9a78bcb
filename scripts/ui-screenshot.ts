// docs/ui-topology.png: a screenshot of the topology page on a running `vnet demo` (the page URL and the token file
// it prints), with a trace shown (by default from ns2 to ns3, which the demo puts on different hosts). Headless
// Chromium as in the tests (test/lib/browser.ts).
//   node --import tsx scripts/ui-screenshot.ts URL TOKEN_FILE OUT.png [FROM_INTERFACE DST]
import { readFileSync } from 'node:fs';
import { drawnGraph, launchBrowser, waitForNode } from '../test/lib/browser.js';

const [url, tokenFile, out, from = 'if-veth2', dst = '172.16.2.3'] = process.argv.slice(2);
if (!url || !tokenFile || !out) {
  console.error('usage: node --import tsx scripts/ui-screenshot.ts URL TOKEN_FILE OUT.png');
  process.exit(2);
}
const browser = await launchBrowser();
try {
  const page = await browser.page();
  await page.setViewportSize({ width: 1600, height: 1000 });
  await page.goto(url);
  await page.locator('#token-form').waitFor({ state: 'visible' });
  await page.fill('#token-input', readFileSync(tokenFile, 'utf8').trim());
  await page.click('#token-form button[type=submit]');
  await waitForNode(page, from);
  const g = (await drawnGraph(page))!;
  const box = (await page.locator('#graph').boundingBox())!;
  const at = g.positions[from]!;
  await page.mouse.click(box.x + at.x, box.y + at.y);
  await page.fill('#trace-dst', dst);
  await page.click('#trace-form button[type=submit]');
  await page.locator('#trace-verdict[data-result]:not([data-result=""])').waitFor({ timeout: 30_000 });
  await page.screenshot({ path: out });
  console.log(`${out}: ${g.nodes.length} nodes, ${g.edges.length} edges`);
} finally {
  await browser.close();
}
