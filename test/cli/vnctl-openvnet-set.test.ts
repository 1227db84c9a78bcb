// OpenVNet's vnctl command set (every command and relation of its Ruby vnctl, in its syntax) through vnet's own
// vnctl against a real server: every line answers the object, as OpenVNet's WebAPI would. The same lines go
// through OpenVNet's Ruby vnctl in scripts/openvnet-vnctl.mjs (by hand: it needs OpenVNet's source).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type ServerProcess, startServerProcess } from '../../bench/lib/server-process.js';
import { runVnctl } from '../../src/cli/vnctl/main.js';
import { KNOWN_DIFFERENCES, readCommandSet, runCommandSet } from '../lib/vnctl-command-set.js';

let server: ServerProcess;
before(async () => {
  server = await startServerProcess('vnctl-set');
});
after(async () => server?.stop());

test('every line of the OpenVNet command set is accepted through vnctl', async () => {
  const steps = readCommandSet();
  assert.ok(steps.length >= 170, `the set covers every command (${steps.length} lines)`);
  const results = await runCommandSet(steps, async (argv) => {
    let stdout = '';
    let stderr = '';
    // Not a terminal: OpenVNet's YAML, as its scripts read it.
    const status = await runVnctl(
      argv,
      { VNET_API: server.base },
      {
        stdout: (s) => (stdout += s),
        stderr: (s) => (stderr += s),
        isTTY: false,
      },
    );
    return { status, stdout, stderr };
  });
  const wrong = results
    .filter((r) => {
      const known = KNOWN_DIFFERENCES[r.step.text];
      return known ? r.ok || !known.test(r.why ?? '') : !r.ok;
    })
    .map(
      (r) => `line ${r.step.line}: ${r.step.text}\n  → ${r.ok ? 'accepted, but listed as a known difference' : r.why}`,
    );
  assert.deepEqual(wrong, [], `${wrong.length} of ${results.length} answered otherwise than expected`);
  const accepted = results.filter((r) => r.ok).length;
  assert.equal(accepted, results.length - Object.keys(KNOWN_DIFFERENCES).length);
});
