// The CPU side of a restart's flow sync, in one process, without a switch: N local ports, the flows computed and
// keyed (the desired side), the same flows through the OpenFlow codec as a dump would come back (the switch's side:
// encode, then decode as flow stats), its keys, and the diff (with the canonical form where a flow needs it). Repeated, each round
// on fresh objects (a restarted agent keys everything once); CPU ms per stage, median of the rounds, with the
// (wall) time V8 spent collecting garbage meanwhile.
//   node --import tsx bench/restart-diff.ts [--ports 1000] [--rounds 5]
import { readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { diffFlows, keyFlows } from '../src/agent/pipeline/diff.js';
import { FlowCompiler } from '../src/agent/pipeline/flows.js';
import { buildModelView } from '../src/agent/pipeline/model-view.js';
import { decodeMessage, encodeMessage } from '../src/openflow/index.js';
import { normalizeFlow } from '../src/openflow/normalize.js';
import type { Flow } from '../src/openflow/types.js';
import { synthetic } from '../test/agent/pipeline/synthetic.js';
import { numOption } from './lib/stats.js';

process.env.NODE_ENV ??= 'production';
const args = process.argv.slice(2);
const PORTS = numOption(args, 'ports', 1000);
const ROUNDS = numOption(args, 'rounds', 5);

// CPU time (user + system) rather than wall time: on a machine shared with other work, a stage's wall time is
// mostly its wait for a core.
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
let gcMs = 0;
new PerformanceObserver((l) => {
  for (const e of l.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

const { resources, local } = synthetic({ interfaces: PORTS, networks: 1, hosts: 1 });
// The dump's bytes, made once: what ovs-vswitchd would send for the flows the last agent installed.
const seed = new FlowCompiler();
seed.update(buildModelView(resources), local, []);
const wire = seed.flows().map((flow) => encodeMessage({ type: 'flow_mod', xid: 1, command: 'add', flow }));

const rows: Record<string, number[]> = {};
const note = (k: string, v: number) => {
  rows[k] ??= [];
  rows[k].push(v);
};
let flows = 0;
let mods = 0;
for (let r = 0; r < ROUNDS; r++) {
  const gc0 = gcMs;
  let t = cpuMs();
  const lap = (k: string) => {
    const now = cpuMs();
    note(k, now - t);
    t = now;
  };
  const view = buildModelView(resources);
  lap('model view');
  const c = new FlowCompiler();
  c.update(view, local, []);
  lap('compute');
  const desired = c.flows();
  keyFlows(desired);
  lap('desired: keys (as built)');
  const dump: Flow[] = wire.map((b) => (decodeMessage(b) as { flow: Flow }).flow);
  lap('dump: decode');
  keyFlows(dump);
  lap('dump: keys');
  // As the agent diffs a dump: canonical form only for the desired flows that do not read the same as built.
  mods = diffFlows(dump, desired, normalizeFlow).length;
  lap('diff');
  if (r === 0) {
    // What the canonical copy of every desired flow cost (the agent made it before 2026-12-08), for comparison.
    const all = desired.map(normalizeFlow);
    lap('(not on the path) canonical form of every desired flow');
    keyFlows(all);
    t = cpuMs();
  }
  // The GC observer hears of collections a turn later.
  await new Promise((r) => setImmediate(r));
  note('GC during the round', gcMs - gc0);
  flows = desired.length;
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(
  `${PORTS} ports, ${flows} flows, ${mods} flow-mods from the diff; load average ${load}; node ${process.version}`,
);
console.log('| stage | CPU ms, median | min | max |\n|---|---|---|---|');
for (const [k, xs] of Object.entries(rows))
  console.log(`| ${k} | ${med(xs).toFixed(1)} | ${Math.min(...xs).toFixed(1)} | ${Math.max(...xs).toFixed(1)} |`);
