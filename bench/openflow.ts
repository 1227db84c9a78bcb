// Benchmark of the OpenFlow library: flow-mod encode/decode rate, and installing 100k flows on a real bridge.
//   node --import tsx bench/openflow.ts [--flows 100000] [--codec 200000] [--compare-ofctl]
// --compare-ofctl also times `ovs-ofctl add-flows` of the same flows on the same bridge (about a minute).
import { startOvs } from '../src/lab/ovs-instance.js';
import { writeFileSync } from 'node:fs';
import { connectSwitch, decodeMessage, encodeMessage, formatFlow, type OFMessage } from '../src/openflow/index.js';
import type { Flow, FlowMod } from '../src/openflow/types.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

/** Flows shaped like the agent's: classify by port/MAC/IP, set registers/metadata, resubmit or output. */
function typicalFlow(i: number): Flow {
  const kind = i % 4;
  const cookie = 0x0100000000000000n | BigInt(i);
  const table = 10 + (i % 20);
  if (kind === 0) {
    return {
      table,
      priority: 100,
      cookie,
      match: { in_port: { value: 1 + (i % 60000) }, eth_src: { value: 0x525400000000n + BigInt(i) } },
      instructions: [
        {
          type: 'apply_actions',
          actions: [
            { type: 'set_field', field: 'reg0', value: i },
            { type: 'set_field', field: 'reg1', value: i >>> 8 },
          ],
        },
        { type: 'write_metadata', value: BigInt(i) << 8n, mask: 0xffffff00n },
        { type: 'goto_table', table: 40 },
      ],
    };
  }
  if (kind === 1) {
    return {
      table,
      priority: 200,
      cookie,
      match: {
        metadata: { value: BigInt(i) << 8n, mask: 0xffffff00n },
        eth_type: { value: 0x0800 },
        ipv4_dst: { value: (10 << 24) | i },
      },
      instructions: [
        {
          type: 'apply_actions',
          actions: [
            { type: 'set_field', field: 'eth_dst', value: 0x525400000000n + BigInt(i) },
            { type: 'dec_nw_ttl' },
            { type: 'resubmit', table: 50 },
          ],
        },
      ],
    };
  }
  if (kind === 2) {
    return {
      table,
      priority: 300,
      cookie,
      match: {
        eth_type: { value: 0x0806 },
        arp_op: { value: 1 },
        arp_tpa: { value: (10 << 24) | i },
        reg0: { value: i & 0xffff },
      },
      instructions: [
        {
          type: 'apply_actions',
          actions: [
            {
              type: 'move',
              src: { field: 'eth_src', start: 0, nBits: 48 },
              dst: { field: 'eth_dst', start: 0, nBits: 48 },
            },
            { type: 'set_field', field: 'eth_src', value: 0x525400ffffffn },
            { type: 'set_field', field: 'arp_op', value: 2 },
            { type: 'output', port: 0xfffffff8 },
          ],
        },
      ],
    };
  }
  return {
    table,
    priority: 400,
    cookie,
    match: {
      eth_type: { value: 0x0800 },
      ip_proto: { value: 6 },
      reg1: { value: i & 0xffffff },
      tcp_dst: { value: i & 0xffff },
      ct_state: { value: 0x21, mask: 0x21 },
    },
    instructions: [
      {
        type: 'apply_actions',
        actions: [
          { type: 'ct', commit: true, zone: i & 0xffff, exec: [{ type: 'set_field', field: 'ct_mark', value: 1 }] },
          { type: 'output', port: 1 + (i % 100) },
        ],
      },
    ],
  };
}

function codecBench(n: number): {
  encodePerSec: number;
  decodePerSec: number;
  roundTripPerSec: number;
  avgBytes: number;
} {
  const msgs: OFMessage[] = Array.from(
    { length: 1000 },
    (_, i): OFMessage => ({ type: 'flow_mod', xid: i, command: 'add', flow: typicalFlow(i) }),
  );
  const bytes = msgs.map((m) => encodeMessage(m));
  for (let i = 0; i < 20000; i++) decodeMessage(encodeMessage(msgs[i % 1000] as OFMessage)); // warm up
  let t = performance.now();
  for (let i = 0; i < n; i++) encodeMessage(msgs[i % 1000] as OFMessage);
  const enc = n / ((performance.now() - t) / 1000);
  t = performance.now();
  for (let i = 0; i < n; i++) decodeMessage(bytes[i % 1000] as Uint8Array);
  const dec = n / ((performance.now() - t) / 1000);
  t = performance.now();
  for (let i = 0; i < n; i++) decodeMessage(encodeMessage(msgs[i % 1000] as OFMessage));
  const rt = n / ((performance.now() - t) / 1000);
  return {
    encodePerSec: Math.round(enc),
    decodePerSec: Math.round(dec),
    roundTripPerSec: Math.round(rt),
    avgBytes: Math.round(bytes.reduce((a, b) => a + b.length, 0) / bytes.length),
  };
}

async function installBench(n: number) {
  const dir = `/tmp/vnet-ofbench-${process.pid}`;
  const ovs = await startOvs({ dir, dummy: true });
  try {
    await ovs.vsctl(
      'add-br',
      'br0',
      '--',
      'set',
      'bridge',
      'br0',
      'datapath_type=dummy',
      'protocols=OpenFlow13',
      'fail_mode=secure',
    );
    const sw = await connectSwitch(`unix:${dir}/br0.mgmt`, { requestTimeoutMs: 600_000 });
    const mods: FlowMod[] = Array.from({ length: n }, (_, i) => ({ command: 'add', flow: typicalFlow(i) }));
    let t = performance.now();
    await sw.sendFlowMods(mods);
    const installMs = performance.now() - t;
    t = performance.now();
    const dumped = await sw.dumpFlows();
    const dumpMs = performance.now() - t;
    if (dumped.length !== n) throw new Error(`installed ${dumped.length} flows, expected ${n}`);
    t = performance.now();
    await sw.sendFlowMods([
      { command: 'delete', flow: { table: 0xff, priority: 0, cookie: 0n, match: {}, instructions: [] } },
    ]);
    const deleteMs = performance.now() - t;
    const bundleN = Math.min(n, 20_000);
    t = performance.now();
    await sw.sendFlowMods(mods.slice(0, bundleN), { bundle: true });
    const bundleMs = performance.now() - t;
    const agg = await sw.aggregateStats();
    if (agg.flowCount !== bundleN) throw new Error(`bundle installed ${agg.flowCount}`);
    // Reference point, same switch and flows: ovs-ofctl add-flows (OVS's own client, C).
    if (!process.argv.includes('--compare-ofctl')) {
      sw.close();
      return {
        ofctlAddFlowsMs: -1,
        flows: n,
        installMs: Math.round(installMs),
        installPerSec: Math.round(n / (installMs / 1000)),
        dumpMs: Math.round(dumpMs),
        deleteAllMs: Math.round(deleteMs),
        bundleFlows: bundleN,
        bundleMs: Math.round(bundleMs),
      };
    }
    await sw.sendFlowMods([
      { command: 'delete', flow: { table: 0xff, priority: 0, cookie: 0n, match: {}, instructions: [] } },
    ]);
    writeFileSync(`${dir}/flows.txt`, mods.map((m) => formatFlow(m.flow)).join('\n'));
    t = performance.now();
    await ovs.ofctl('add-flows', 'br0', `${dir}/flows.txt`);
    const ofctlMs = performance.now() - t;
    const check = await sw.aggregateStats();
    if (check.flowCount !== n) throw new Error(`ovs-ofctl installed ${check.flowCount}`);
    sw.close();
    return {
      ofctlAddFlowsMs: Math.round(ofctlMs),
      flows: n,
      installMs: Math.round(installMs),
      installPerSec: Math.round(n / (installMs / 1000)),
      dumpMs: Math.round(dumpMs),
      deleteAllMs: Math.round(deleteMs),
      bundleFlows: bundleN,
      bundleMs: Math.round(bundleMs),
    };
  } finally {
    await ovs.stop();
  }
}

const codec = codecBench(arg('codec', 200_000));
console.log(
  `flow-mod codec (typical agent flows, ${codec.avgBytes} B avg): encode ${codec.encodePerSec} msg/s, decode ${codec.decodePerSec} msg/s, encode+decode ${codec.roundTripPerSec} msg/s`,
);
const inst = await installBench(arg('flows', 100_000));
console.log(
  `install ${inst.flows} flows through one connection (dummy datapath): ${inst.installMs} ms (${inst.installPerSec} flows/s, barrier-confirmed); dump-flows read-back ${inst.dumpMs} ms; delete all ${inst.deleteAllMs} ms; ${inst.bundleFlows} flows in one atomic bundle ${inst.bundleMs} ms${inst.ofctlAddFlowsMs >= 0 ? `; reference: ovs-ofctl add-flows of the same flows ${inst.ofctlAddFlowsMs} ms` : ''}`,
);
console.log(JSON.stringify({ codec, install: inst }));
