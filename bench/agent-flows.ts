// Benchmark of pure flow generation: full computation, one-interface change, flows per port (issue 6 figures).
//   node --import tsx bench/agent-flows.ts
import { FlowCompiler } from '../src/agent/pipeline/flows.js';
import { applyChange, buildModelView } from '../src/agent/pipeline/model-view.js';
import type { Interface } from '../src/model/types.js';
import { securityScenario, synthetic } from '../test/agent/pipeline/synthetic.js';

// Benchmarks measure what production runs: FlowCompiler's table-contract check (on outside production) stays off.
process.env.NODE_ENV ??= 'production';

function ms(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function run(label: string, o: Parameters<typeof synthetic>[0]): void {
  const { resources, local } = synthetic(o);
  let t0 = process.hrtime.bigint();
  const view = buildModelView(resources);
  const tView = ms(t0);
  const full: number[] = [];
  const fullCpu: number[] = [];
  let c = new FlowCompiler();
  for (let k = 0; k < 3; k++) {
    c = new FlowCompiler();
    const u0 = process.cpuUsage();
    t0 = process.hrtime.bigint();
    c.update(view, local, []);
    full.push(ms(t0));
    const u = process.cpuUsage(u0);
    fullCpu.push((u.user + u.system) / 1000);
  }
  const flows = c.flows().length;
  const bound = c.currentBindings().size;
  // One interface change: move a local VM's address, as an IP lease update would.
  const change: number[] = [];
  let mods = 0;
  for (let k = 0; k < 50; k++) {
    const uuid = `if-s${(k * o.hosts) % o.interfaces}`;
    const i = structuredClone(view.interfaces.get(uuid)!) as Interface;
    const il = i.mac_leases![0]!.ip_leases![0]!;
    const parts = il.ipv4_address.split('.');
    il.ipv4_address = `${parts[0]}.${parts[1]}.${parts[2]}.${200 + (k % 50)}`;
    t0 = process.hrtime.bigint();
    const keys = applyChange(view, { revision: 100 + k, resource: 'interfaces', uuid, op: 'upsert', item: i });
    const r = c.update(view, local, keys);
    change.push(ms(t0));
    mods += r.mods.length;
  }
  const rss = process.memoryUsage().rss / 2 ** 20;
  console.log(
    `${label}: ${o.interfaces} interfaces / ${o.networks} networks / ${o.hosts} host(s)` +
      ` | view ${tView.toFixed(0)} ms | full compute median ${median(full).toFixed(0)} ms (cpu ${median(fullCpu).toFixed(0)} ms)` +
      ` | one interface change median ${median(change).toFixed(2)} ms (max ${Math.max(...change).toFixed(2)}, ${(mods / 50).toFixed(1)} mods)` +
      ` | ${flows} flows, ${bound} local ports, ${(flows / Math.max(1, bound)).toFixed(2)} flows/local port | rss ${rss.toFixed(0)} MiB`,
  );
}

console.log(
  `load average ${(await import('node:os'))
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} on ${(await import('node:os')).cpus().length} cores`,
);
run('scale, all local', { interfaces: 10_000, networks: 1_000, hosts: 1, networksPerRouter: 10 });
run('scale, 10 hosts', { interfaces: 10_000, networks: 1_000, hosts: 10, networksPerRouter: 10 });
run('per-port, no routers', { interfaces: 1_000, networks: 100, hosts: 1 });
run('per-port, routers', { interfaces: 1_000, networks: 100, hosts: 1, networksPerRouter: 10 });

// Issue 7: flows for 100 interfaces in a group with 50 rules naming 3 remote groups, and the compute cost of a
// remote-group membership change (a remote VM joins sg-r0: its address enters 17 rules).
{
  const { resources, local } = securityScenario(100, 50);
  const view = buildModelView(resources);
  const c = new FlowCompiler();
  c.update(view, local, []);
  const sec = c.ownerFlows('sec').length;
  const times: number[] = [];
  for (let k = 0; k < 20; k++) {
    const i = structuredClone(view.interfaces.get(`if-rg${k % 30}`)!) as Interface;
    i.security_group_uuids = k % 2 ? ['sg-r0'] : ['sg-r1'];
    const t0 = process.hrtime.bigint();
    c.update(
      view,
      local,
      applyChange(view, { revision: 1000 + k, resource: 'interfaces', uuid: i.uuid, op: 'upsert', item: i }),
    );
    times.push(ms(t0));
  }
  console.log(
    `security: 100 members, 50 rules, 3 remote groups of 10 | ${sec} ACL flows (${c.flows().length} total)` +
      ` | remote-group membership change: compute median ${median(times).toFixed(2)} ms`,
  );
}
