// OVSDB client benchmark: 5,000 ports on a bridge (real ovsdb-server; ovs-vswitchd with the
// dummy datapath in phase B): monitor initial load, update latency through the cache, transact rate.
//   node --import tsx bench/ovsdb.ts            (PORTS=5000 ROUNDS=200 to change sizes)
// Phase A runs with ovs-vswitchd stopped, so the figures are the client's and ovsdb-server's;
// phase B restarts it, because with thousands of ports vswitchd's reconfiguration (it re-reads
// the whole bridge on every change) dominates latency and the agent lives with that.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { startOvs } from '../src/lab/ovs-instance.js';
import { Vswitch } from '../src/ovsdb/bridge.js';
import { OvsdbClient } from '../src/ovsdb/client.js';
import { map, namedUuid, set, uuid } from '../src/ovsdb/data.js';
import { type Operation, op, where } from '../src/ovsdb/ops.js';
import { pct } from './lib/stats.js';

const PORTS = Number(process.env.PORTS ?? 5000);
const ROUNDS = Number(process.env.ROUNDS ?? 200);
const DB = 'Open_vSwitch';
const pexec = promisify(execFile);

const ms = (t0: number) => performance.now() - t0;
const fmt = (x: number) => x.toFixed(x < 10 ? 2 : 0);

const dir = `/tmp/vnet-bench-ovsdb-${process.pid}`;
const ovs = await startOvs({ dir, dummy: true });
const results: Array<[string, string]> = [];
const note = (k: string, v: string) => {
  results.push([k, v]);
  console.error(`  ${k}: ${v}`);
};
try {
  const writer = await OvsdbClient.connect(`unix:${ovs.dbSock}`);
  const vs = await Vswitch.connect(`unix:${ovs.dbSock}`, { waitTimeoutMs: 300_000 });
  const br = await vs.createBridge({ name: 'brbench', datapathType: 'dummy' });
  await vs.bridgeDatapathId('brbench');

  // Stop ovs-vswitchd (by its own pidfile), remembering how to start it again.
  const vsPid = Number(readFileSync(join(dir, 'ovs-vswitchd.pid'), 'utf8').trim());
  const vsArgv = readFileSync(`/proc/${vsPid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  process.kill(vsPid, 'SIGTERM');
  while (
    await pexec('kill', ['-0', String(vsPid)]).then(
      () => true,
      () => false,
    )
  )
    await new Promise((r) => setTimeout(r, 20));

  // --- Phase A: client + ovsdb-server ---------------------------------------------------
  let t0 = performance.now();
  const BATCH = 500;
  for (let base = 0; base < PORTS; base += BATCH) {
    const ops: Operation[] = [];
    const names: ReturnType<typeof namedUuid>[] = [];
    for (let i = base; i < Math.min(PORTS, base + BATCH); i++) {
      const name = `bp${i}`;
      ops.push(
        op.insert('Interface', { name, type: 'internal', external_ids: map({ 'iface-id': `if-${i}` }) }, `i${i}`),
      );
      ops.push(op.insert('Port', { name, interfaces: set([namedUuid(`i${i}`)]) }, `p${i}`));
      names.push(namedUuid(`p${i}`));
    }
    ops.push(op.mutate('Bridge', [where.eq('_uuid', uuid(br.uuid))], [['ports', 'insert', set(names)]]));
    await writer.transact(DB, ops);
  }
  note(`A bulk insert, ${BATCH} ports per transaction`, `${fmt(ms(t0))} ms for ${PORTS} ports`);
  await vs.cache.until(() => vs.interfaces('brbench').length === PORTS + 1 || undefined, 60_000, 'ports in cache');
  note('A all ports visible in the long-lived cache', `${fmt(ms(t0))} ms after the first insert`);

  const loads: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    const v2 = await Vswitch.connect(`unix:${ovs.dbSock}`, { waitTimeoutMs: 60_000 });
    loads.push(ms(t));
    if (v2.interfaces('brbench').length !== PORTS + 1) throw new Error('fresh cache incomplete');
    v2.close();
  }
  note(
    'A monitor initial load (connect → synced, 5 tables, 5 runs)',
    `median ${fmt(pct(loads, 50))} ms, min ${fmt(Math.min(...loads))} ms`,
  );

  const ifaces = [...vs.cache.rows('Interface')].filter((i) => i.name.startsWith('bp'));
  const setIdOps = (i: number, key: string, val: string) => [
    op.mutate(
      'Interface',
      [where.eq('_uuid', uuid(ifaces[i % ifaces.length]!._uuid))],
      [
        ['external_ids', 'delete', set([key])],
        ['external_ids', 'insert', map({ [key]: val })],
      ],
    ),
  ];
  async function updateLatency(rounds: number): Promise<number[]> {
    const lat: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const target = ifaces[r % ifaces.length]!;
      const val = `v${r}-${Math.random()}`;
      const seen = vs.cache.until(
        () => vs.cache.get('Interface', target._uuid)?.external_ids.get('bench') === val || undefined,
        30_000,
        'update',
      );
      const t = performance.now();
      await Promise.all([writer.transact(DB, setIdOps(r, 'bench', val)), seen]);
      lat.push(ms(t));
    }
    return lat;
  }
  async function rates(n: number, label: string): Promise<void> {
    let t = performance.now();
    for (let i = 0; i < n; i++) await writer.transact(DB, setIdOps(i, 'rate', String(i)));
    note(`${label} transact rate, sequential (1 mutate each, ${n} txns)`, `${fmt((n / ms(t)) * 1000)} txn/s`);
    t = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < n) await writer.transact(DB, setIdOps(next, 'rate', String(next++)));
      }),
    );
    note(`${label} transact rate, 32 in flight (${n} txns)`, `${fmt((n / ms(t)) * 1000)} txn/s`);
  }

  let lat = await updateLatency(ROUNDS);
  note(
    `A update latency (another client writes → cache event, ${ROUNDS} rounds)`,
    `p50 ${fmt(pct(lat, 50))} ms, p99 ${fmt(pct(lat, 99))} ms`,
  );
  await rates(2000, 'A');

  // --- Phase B: ovs-vswitchd running on the 5,000-port bridge -------------------------------
  t0 = performance.now();
  await pexec(vsArgv[0]!, vsArgv.slice(1), { env: ovs.env });
  await vs.cache.until(
    () => vs.interfaces('brbench').every((i) => (i.ofport ?? 0) > 0) || undefined,
    600_000,
    'ofports',
  );
  note(`B ovs-vswitchd start → all ${PORTS + 1} ofports seen in the cache`, `${fmt(ms(t0))} ms`);
  lat = await updateLatency(30);
  note(
    'B update latency with vswitchd reconfiguring (30 rounds)',
    `p50 ${fmt(pct(lat, 50))} ms, p99 ${fmt(pct(lat, 99))} ms`,
  );
  await rates(60, 'B');
  t0 = performance.now();
  for (let i = 0; i < 10; i++)
    await vs.addPort({ bridge: 'brbench', name: 'bpx', type: 'internal', externalIds: { n: String(i) } });
  note('B intent addPort/update (commit + cache shows it)', `${fmt(ms(t0) / 10)} ms each`);

  writer.close();
  vs.close();
} finally {
  await ovs.stop();
}
console.log(`ovsdb bench: ${PORTS} ports, node ${process.version}, ${new Date().toISOString()}`);
for (const [k, v] of results) console.log(`  ${k}: ${v}`);
