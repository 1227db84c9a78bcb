// The seed documents' lines, in order, over real HTTP: the curl lines run verbatim with curl, the vnctl lines as
// the requests OpenVNet's vnctl made (every option in the query string, singular/plural spellings).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, it } from 'node:test';
import { startServer, type TestServer } from './helpers.js';

let s: TestServer;
let port: number;
before(async () => {
  s = await startServer();
  port = Number(new URL(s.base).port);
});
after(async () => {
  await s.close();
});

/** Runs a seed curl line verbatim, with localhost:9090 pointed at this test's server (async: the server is in-process). */
async function curl(line: string): Promise<{ status: number; body: any }> {
  const args = line.replace('http://localhost:9090', `http://localhost:${port}`).split(' ').slice(1);
  const r = await promisify(execFile)('curl', [...args, '-w', '\n%{http_code}'], { encoding: 'utf8', timeout: 20_000 });
  const nl = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(nl + 1)), body: JSON.parse(r.stdout.slice(0, nl)) };
}

/** What vnctl sends: POST /api/1.0/<plural>[/<relation path>] with all options in the query string. */
async function vnctl(path: string, opts: Record<string, string>) {
  const q = new URLSearchParams(opts).toString();
  const r = await fetch(`${s.base}/api/1.0/${path}.json?${q}`, { method: 'POST' });
  const body = (await r.json()) as any;
  assert.equal(r.status, 200, `${path} ${q} → ${JSON.stringify(body)}`);
  return body;
}

it('runs the seed lines in order', async () => {
  // vnctl datapath add --uuid dp-br0 --display-name=br0 --dc-segment-id=seg1 --dpid=0x000002fdee8e0a44 --ipv4-address=192.168.122.207 --node-id=192.168.122.207
  const dp = await vnctl('datapaths', {
    uuid: 'dp-br0',
    display_name: 'br0',
    dc_segment_id: 'seg1',
    dpid: '0x000002fdee8e0a44',
    ipv4_address: '192.168.122.207',
    node_id: '192.168.122.207',
  });
  assert.equal(dp.dpid, '0x000002fdee8e0a44');
  assert.equal(dp.ipv4_address, '192.168.122.207');
  // vnctl network add --uuid nw-net1 --display-name=net1 --ipv4-network 172.16.1.0 --ipv4-prefix=24 --domain-name=dom1 --network-mode=virtual
  const nw = await vnctl('networks', {
    uuid: 'nw-net1',
    display_name: 'net1',
    ipv4_network: '172.16.1.0',
    ipv4_prefix: '24',
    domain_name: 'dom1',
    network_mode: 'virtual',
  });
  assert.equal(nw.domain_name, 'dom1');
  // vnctl datapath networks add dp-br0 nw-net1 --broadcast-mac-address=08:00:27:10:03:01
  const dn = await vnctl('datapaths/dp-br0/networks/nw-net1', { broadcast_mac_address: '08:00:27:10:03:01' });
  assert.equal(dn.interface_uuid, null);
  // vnctl interface add --uuid=if-veth1 --ipv4-address=172.16.1.1 --network-uuid=nw-net1 --mac-address=52:54:00:0d:84:01
  const veth = await vnctl('interfaces', {
    uuid: 'if-veth1',
    ipv4_address: '172.16.1.1',
    network_uuid: 'nw-net1',
    mac_address: '52:54:00:0d:84:01',
  });
  assert.equal(veth.mode, 'vif');
  assert.equal(veth.ipv4_address, '172.16.1.1');
  const gw = await curl(
    'curl -s -X POST --data-urlencode uuid=if-vnet1gw --data-urlencode network_uuid=nw-net1 --data-urlencode mac_address=52:54:00:74:00:00 --data-urlencode ipv4_address=172.16.1.254 --data-urlencode mode=simulated http://localhost:9090/api/interfaces',
  );
  assert.equal(gw.status, 200, JSON.stringify(gw.body));
  assert.equal(gw.body.mode, 'simulated');
  assert.equal(gw.body.ipv4_address, '172.16.1.254');
  // vnctl network_service add --uuid=ns-vnet1gw --interface-uuid=if-vnet1gw --display-name=router
  const ns = await vnctl('network_services', {
    uuid: 'ns-vnet1gw',
    interface_uuid: 'if-vnet1gw',
    display_name: 'router',
  });
  assert.equal(ns.mode, null);
  // vnctl route_link add --uuid=rl-vnetlink1 --mac-address=52:54:00:60:11:11
  await vnctl('route_links', { uuid: 'rl-vnetlink1', mac_address: '52:54:00:60:11:11' });
  // vnctl datapaths add --uuid dp-test1 --display-name test1 --dpid 0x0000aabbccddeeff --node-id vna
  await vnctl('datapaths', { uuid: 'dp-test1', display_name: 'test1', dpid: '0x0000aabbccddeeff', node_id: 'vna' });
  // vnctl networks add --uuid nw-test1 --display-name test1-net --ipv4-network 10.0.0.0 --ipv4-prefix 24 --network-mode virtual
  await vnctl('networks', {
    uuid: 'nw-test1',
    display_name: 'test1-net',
    ipv4_network: '10.0.0.0',
    ipv4_prefix: '24',
    network_mode: 'virtual',
  });
  // vnctl interfaces add --uuid if-inst1 --mode vif --owner-datapath-uuid dp-test1 --mac-address EE:99:D5:67:FD:52 --network-uuid nw-test1 --ipv4-address 10.0.0.1 --port-name tap1
  const inst = await vnctl('interfaces', {
    uuid: 'if-inst1',
    mode: 'vif',
    owner_datapath_uuid: 'dp-test1',
    mac_address: 'EE:99:D5:67:FD:52',
    network_uuid: 'nw-test1',
    ipv4_address: '10.0.0.1',
    port_name: 'tap1',
  });
  assert.equal(inst.mac_address, 'ee:99:d5:67:fd:52');
  assert.equal(inst.port_name, 'tap1');
  const drl = await curl(
    'curl -s -X POST --data-urlencode route_link_uuid=rl-vnetlink1 --data-urlencode mac_address=08:00:27:20:01:01 http://localhost:9090/api/datapaths/dp-br0/route_links/rl-vnetlink1',
  );
  assert.equal(drl.status, 200, JSON.stringify(drl.body));
  assert.equal(drl.body.mac_address, '08:00:27:20:01:01');
  const route = await curl(
    'curl -s -X POST --data-urlencode uuid=r-vnet1 --data-urlencode interface_uuid=if-vnet1gw --data-urlencode route_link_uuid=rl-vnetlink1 --data-urlencode ipv4_network=172.16.1.0 http://localhost:9090/api/routes',
  );
  assert.equal(route.status, 200, JSON.stringify(route.body));
  assert.equal(route.body.network_uuid, 'nw-net1', 'defaults to the router interface network');
  assert.equal(route.body.ipv4_prefix, 24);

  // The whole seed as one consistent snapshot.
  const snap = (await (await fetch(`${s.base}/api/1.0/feed/snapshot`)).json()) as any;
  assert.deepEqual(
    snap.resources.interfaces.map((i: any) => i.uuid),
    ['if-veth1', 'if-vnet1gw', 'if-inst1'],
  );
  assert.equal(snap.resources.datapath_networks.length, 1);
  assert.equal(snap.resources.datapath_route_links.length, 1);
  assert.equal(snap.resources.routes.length, 1);
  assert.notEqual(snap.resources.networks[0].tunnel_key, snap.resources.networks[1].tunnel_key);
});
