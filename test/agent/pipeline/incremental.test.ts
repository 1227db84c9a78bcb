// FlowCompiler: incremental updates recompute only touched owners and always equal a full computation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { applyFlowMods, diffFlows, flowKey } from '../../../src/agent/pipeline/diff.js';
import { computeFlows, FlowCompiler } from '../../../src/agent/pipeline/flows.js';
import { applyChange, buildModelView, type LocalContext } from '../../../src/agent/pipeline/model-view.js';
import type { Flow } from '../../../src/openflow/types.js';
import type { Interface } from '../../../src/model/types.js';
import { DP1, DP2, iface, localFor, seedResources, seedVms } from './fixtures.js';

const sameSet = (a: readonly Flow[], b: readonly Flow[]) => assert.deepEqual(diffFlows(a, b), []);

function setup() {
  const vms = seedVms((n) => (n % 2 ? DP1 : DP2));
  const view = buildModelView(seedResources(vms));
  const local = localFor(DP1, vms);
  const c = new FlowCompiler();
  c.update(view, local, []);
  return { vms, view, local, c };
}

test('changing one interface recomputes only it and its network', () => {
  const { view, local, c } = setup();
  const i = structuredClone(view.interfaces.get('if-veth1')!) as Interface;
  i.mac_leases![0]!.ip_leases![0]!.ipv4_address = '172.16.1.11';
  const keys = applyChange(view, { revision: 2, resource: 'interfaces', uuid: i.uuid, op: 'upsert', item: i });
  const before = c.flows();
  const r = c.update(view, local, keys);
  assert.deepEqual(r.recomputed.sort(), ['if:if-veth1', 'nw:nw-net1']);
  assert.ok(r.mods.length > 0 && r.mods.length < 12, `${r.mods.length} mods`);
  sameSet(applyFlowMods(before, r.mods), c.flows());
  sameSet(c.flows(), computeFlows(view, local));
});

test('no change → nothing recomputed, no mods', () => {
  const { view, local, c } = setup();
  const r = c.update(view, local, []);
  assert.deepEqual(r.recomputed, []);
  assert.deepEqual(r.mods, []);
});

test('a remote VM moving hosts touches only its network', () => {
  const { view, local, c } = setup();
  const i = structuredClone(view.interfaces.get('if-veth2')!) as Interface;
  i.active_datapath_uuid = 'dp-3';
  const r = c.update(
    view,
    local,
    applyChange(view, { revision: 3, resource: 'interfaces', uuid: i.uuid, op: 'upsert', item: i }),
  );
  assert.deepEqual(r.recomputed, ['nw:nw-net1']);
  const toDp3 = r.mods.filter(
    (m) =>
      m.command === 'modify_strict' &&
      m.flow.instructions.some(
        (x) =>
          x.type === 'apply_actions' &&
          x.actions.some((a) => a.type === 'set_field' && a.field === 'tun_ipv4_dst' && a.value === 0x0ac80003),
      ),
  );
  // Its unicast flow (same identity, same cookie) is modified in place; the flood flow gains dp-3.
  assert.equal(toDp3.length, 2, `${r.mods.map((m) => m.command)}`);
});

test('status-only changes update the view but recompute nothing; a spec change still does', () => {
  const { view, local, c } = setup();
  const at = '2026-02-02T00:00:00Z';
  const upsert = (resource: 'interfaces' | 'datapaths', item: Record<string, unknown>, revision: number) =>
    c.update(view, local, applyChange(view, { revision, resource, uuid: item.uuid as string, op: 'upsert', item }));

  // This agent's own binding report coming back through the feed (if-veth1 is bound here, on DP1).
  const own = { ...view.interfaces.get('if-veth1')!, status: 'up', active_port_name: 'if-veth1', updated_at: at };
  assert.deepEqual(
    applyChange(view, { revision: 20, resource: 'interfaces', uuid: own.uuid, op: 'upsert', item: own }),
    [],
  );
  assert.equal(view.interfaces.get('if-veth1'), own, 'the view holds the new item');
  const echo = { ...own, active_datapath_uuid: null, updated_at: `${at}1` };
  assert.deepEqual(
    upsert('interfaces', echo, 21).recomputed,
    [],
    'bound here: no owner locates it by its active datapath',
  );
  assert.deepEqual(upsert('interfaces', { ...echo, active_datapath_uuid: DP1 }, 22).recomputed, []);

  // Another host's health report: is_connected, flows_in_sync, last_error, reported_node_id.
  const dp2 = view.datapaths.get(DP2)!;
  const health = { is_connected: true, flows_in_sync: false, last_error: 'x', reported_node_id: 'host2' };
  const r = upsert('datapaths', { ...dp2, ...health, updated_at: at }, 23);
  assert.deepEqual([r.recomputed, r.mods], [[], []]);

  // Spec fields still count: dp-2's tunnel address is where its VMs (one in each network) are reached.
  const moved = upsert('datapaths', { ...view.datapaths.get(DP2)!, ipv4_address: '10.200.0.22', updated_at: at }, 24);
  assert.deepEqual(moved.recomputed.sort(), ['nw:nw-net1', 'nw:nw-net2', 'nw:nw-net3']);
  sameSet(c.flows(), computeFlows(view, local));
});

test('a port appearing binds its interface and reports the binding change; removing it unbinds', () => {
  const { view, vms, c } = setup();
  const extra = iface('if-new', 'vif', 'nw-net2', '02:00:00:00:00:99', '172.16.2.99', { port_name: 'tap99' });
  c.update(
    view,
    localFor(DP1, vms),
    applyChange(view, { revision: 4, resource: 'interfaces', uuid: 'if-new', op: 'upsert', item: extra }),
  );
  const withPort: LocalContext = {
    ...localFor(DP1, vms),
    ports: new Map([...localFor(DP1, vms).ports, ['tap99', { ofport: 42 }]]),
  };
  const r = c.update(view, withPort, []);
  assert.deepEqual(r.bindingChanges, ['if-new']);
  assert.ok(r.recomputed.includes('if:if-new'));
  assert.ok(c.flows().some((f) => f.match.in_port?.value === 42));
  const r2 = c.update(view, localFor(DP1, vms), []);
  assert.deepEqual(r2.bindingChanges, ['if-new']);
  assert.ok(!c.flows().some((f) => f.match.in_port?.value === 42));
  sameSet(c.flows(), computeFlows(view, localFor(DP1, vms)));
});

test('a port plugged or unplugged recomputes its interface, network and filters only, not every owner', () => {
  const { view, vms, local, c } = setup();
  // dp1 holds veth1, veth3, veth5 (one per network): plug veth3's port out and back in.
  const ports = new Map(local.ports);
  ports.delete('if-veth3');
  const r = c.update(view, { ...local, ports }, []);
  assert.deepEqual(r.bindingChanges, ['if-veth3']);
  assert.ok(!r.recomputed.includes('if:if-veth1') && !r.recomputed.includes('static'), r.recomputed.join());
  assert.ok(r.removed.includes('if:if-veth3'), r.removed.join());
  sameSet(c.flows(), computeFlows(view, { ...local, ports }));
  const r2 = c.update(view, localFor(DP1, vms), []);
  assert.deepEqual(r2.bindingChanges, ['if-veth3']);
  assert.ok(!r2.recomputed.includes('if:if-veth1') && !r2.recomputed.includes('nw:nw-net1'), r2.recomputed.join());
  sameSet(c.flows(), computeFlows(view, local));
  // A tunnel change is a host change: everything again.
  const r3 = c.update(view, { ...localFor(DP1, vms), tunnelIp: '10.200.0.99' }, []);
  assert.ok(r3.recomputed.includes('if:if-veth1') && r3.recomputed.includes('static'), r3.recomputed.join());
});

test('deleting the last local interface of a network removes the network owner', () => {
  const { view, local, c } = setup();
  // dp1 holds veth1, veth3, veth5: one per network.
  const r = c.update(
    view,
    local,
    applyChange(view, { revision: 5, resource: 'interfaces', uuid: 'if-veth5', op: 'delete', item: null }),
  );
  assert.ok(r.removed.includes('nw:nw-net3') && r.removed.includes('if:if-veth5'), r.removed.join());
  assert.ok(!c.flows().some((f) => f.match.metadata?.value === 103n));
  sameSet(c.flows(), computeFlows(view, local));
});

test('property: any sequence of interface edits keeps incremental == full, and mods replay to the same table', () => {
  const vms = seedVms((n) => (n % 2 ? DP1 : DP2));
  const edit = fc.record({
    vm: fc.integer({ min: 1, max: 6 }),
    kind: fc.constantFrom('ip', 'move', 'delete', 'mac', 'net', 'unplug', 'plug'),
    x: fc.integer({ min: 1, max: 200 }),
  });
  fc.assert(
    fc.property(fc.array(edit, { minLength: 1, maxLength: 12 }), (edits) => {
      const view = buildModelView(seedResources(vms));
      let local = localFor(DP1, vms);
      const c = new FlowCompiler();
      c.update(view, local, []);
      let installed: Flow[] = [...c.flows()];
      let rev = 10;
      for (const e of edits) {
        const uuid = `if-veth${e.vm}`;
        const cur = view.interfaces.get(uuid);
        let keys: string[] = [];
        if (e.kind === 'unplug' || e.kind === 'plug') {
          // The host's ports change (a new LocalContext, same host): a VM port goes away or comes (back).
          const ports = new Map(local.ports);
          if (e.kind === 'unplug') ports.delete(uuid);
          else ports.set(uuid, { ofport: 10 + e.vm + (e.x % 2) * 100 });
          local = { ...local, ports };
        } else if (e.kind === 'delete' || !cur) {
          keys = applyChange(view, { revision: rev++, resource: 'interfaces', uuid, op: 'delete', item: null });
        } else {
          const i = structuredClone(cur) as Interface;
          const il = i.mac_leases![0]!.ip_leases![0];
          if (e.kind === 'ip' && il) il.ipv4_address = `172.16.${il.ipv4_address.split('.')[2]}.${e.x}`;
          if (e.kind === 'move') i.active_datapath_uuid = e.x % 2 ? DP2 : 'dp-3';
          if (e.kind === 'mac')
            i.mac_leases![0]!.mac_address = `02:00:00:00:01:${(e.x % 256).toString(16).padStart(2, '0')}`;
          if (e.kind === 'net' && il) {
            il.network_uuid = e.x % 2 ? 'nw-net3' : 'nw-net1';
            i.network_uuid = il.network_uuid;
          }
          keys = applyChange(view, { revision: rev++, resource: 'interfaces', uuid, op: 'upsert', item: i });
        }
        const r = c.update(view, local, keys);
        installed = applyFlowMods(installed, r.mods);
        const full = computeFlows(view, local);
        sameSet(c.flows(), full);
        sameSet(installed, full);
        assert.equal(new Set(full.map(flowKey)).size, full.length);
      }
    }),
    { numRuns: 60 },
  );
});

test('a malformed address in one interface costs only that owner its flows, reported as an error', () => {
  const { view, local, c } = setup();
  const i = structuredClone(view.interfaces.get('if-veth1')!) as Interface;
  i.mac_leases![0]!.ip_leases![0]!.ipv4_address = '172.16.1.300';
  const r = c.update(
    view,
    local,
    applyChange(view, { revision: 9, resource: 'interfaces', uuid: i.uuid, op: 'upsert', item: i }),
  );
  assert.deepEqual(r.errors.map((e) => e.owner).sort(), ['if:if-veth1', 'nw:nw-net1']);
  assert.match(r.errors[0]!.error.message, /interfaces\.if-veth1\.ipv4_address/);
  assert.equal((r.errors[0]!.error as { code?: string }).code, 'VNET_ERR_PIPELINE_ADDRESS');
  // Other networks keep their flows, and so do net1's other VMs.
  assert.ok(c.flows().some((f) => f.match.metadata?.value === 103n));
  assert.ok(c.flows().some((f) => f.match.metadata?.value === 101n && f.match.arp_tpa?.value === 0xac100102));
});

test('a network with an invalid key yields a typed error naming the field, not a crash', () => {
  const { view, local, c } = setup();
  const n = { ...view.networks.get('nw-net2')!, tunnel_key: 0x1000000 };
  const r = c.update(
    view,
    local,
    applyChange(view, { revision: 11, resource: 'networks', uuid: n.uuid, op: 'upsert', item: n }),
  );
  const e = r.errors.find((x) => x.owner === 'nw:nw-net2');
  assert.ok(e, r.errors.map((x) => x.owner).join());
  assert.equal((e.error as { code?: string }).code, 'VNET_ERR_PIPELINE_MODEL');
  assert.match(e.error.message, /networks\.nw-net2\.tunnel_key/);
  assert.ok(!c.flows().some((f) => f.match.metadata?.value === 0x1000000n));
});

test('a fresh snapshot (new ModelView) recomputes everything and sends only the difference', () => {
  const { vms, view, local, c } = setup();
  const r0 = seedResources(vms);
  r0.interfaces = r0.interfaces!.filter((i) => i.uuid !== 'if-veth3');
  const fresh = buildModelView(r0);
  const r = c.update(fresh, local, []);
  assert.ok(r.recomputed.length > 3);
  sameSet(c.flows(), computeFlows(fresh, local));
  assert.ok(r.mods.length > 0 && r.mods.length < 20, `${r.mods.length}`);
  assert.ok(view !== fresh);
});

test("a datapath with no ipv4_address is tunnelled to through its host interface's address, and follows it", () => {
  const vms = seedVms((n) => (n % 2 ? DP1 : DP2));
  const res = seedResources(vms);
  const dp2 = (res.datapaths ?? []).find((d) => d.uuid === DP2)!;
  dp2.ipv4_address = null;
  // OpenVNet's datasets: no datapath address, the host's interface on the public network instead (no port).
  const host = iface('if-eth0h2', 'host', 'nw-public', '02:00:99:00:00:02', '10.99.0.2', {
    owner_datapath_uuid: DP2,
  });
  res.interfaces = [...(res.interfaces ?? []), host];
  const view = buildModelView(res);
  const local = localFor(DP1, vms);
  const c = new FlowCompiler();
  c.update(view, local, []);
  const tunDst = () =>
    c
      .flows()
      .filter((f) => f.match.eth_dst?.value === 0x020000000002n)
      .flatMap((f) => f.instructions.flatMap((ins) => (ins.type === 'apply_actions' ? ins.actions : [])))
      .filter((a) => a.type === 'set_field' && a.field === 'tun_ipv4_dst')
      .map((a) => (a.type === 'set_field' ? Number(a.value) : 0));
  const ip = (s: string) => s.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  assert.deepEqual(tunDst(), [ip('10.99.0.2')]);

  const moved = structuredClone(host) as Interface;
  moved.mac_leases![0]!.ip_leases![0]!.ipv4_address = '10.99.0.22';
  const keys = applyChange(view, { revision: 2, resource: 'interfaces', uuid: 'if-eth0h2', op: 'upsert', item: moved });
  const before = c.flows();
  const r = c.update(view, local, keys);
  assert.ok(r.recomputed.includes('nw:nw-net1'), r.recomputed.join());
  assert.deepEqual(tunDst(), [ip('10.99.0.22')]);
  sameSet(applyFlowMods(before, r.mods), c.flows());
  sameSet(c.flows(), computeFlows(view, local));
});
