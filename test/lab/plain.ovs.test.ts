// The plain lab flows, by behaviour: ofproto/trace on a real (dummy-datapath) bridge says where each packet goes.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { type OvsInstance, startOvs } from '../../src/lab/ovs-instance.js';
import { plainFlows } from '../../src/lab/plain.js';

const DIR = `/tmp/vnet-test-plain-${process.pid}`;
const TUN = 10;
const M1 = '02:00:00:00:00:01';
const M2 = '02:00:00:00:00:02';
const REMOTE = '02:00:00:00:00:03';
let ovs: OvsInstance;

before(async () => {
  ovs = await startOvs({ dir: DIR, dummy: true });
  const port = (name: string, ofport: number, ...opts: string[]) => [
    '--',
    'add-port',
    'br0',
    name,
    '--',
    'set',
    'interface',
    name,
    `ofport_request=${ofport}`,
    ...opts,
  ];
  await ovs.vsctl(
    'add-br',
    'br0',
    '--',
    'set',
    'bridge',
    'br0',
    'datapath_type=dummy',
    'fail_mode=secure',
    ...port('p1', 1, 'type=dummy'),
    ...port('p2', 2, 'type=dummy'),
    ...port('tun', TUN, 'type=gre', 'options:remote_ip=flow', 'options:key=flow'),
  );
  const flows = plainFlows({
    tunnelOfport: TUN,
    local: [
      { mac: M1, ofport: 1 },
      { mac: M2, ofport: 2 },
    ],
    remote: [{ mac: REMOTE, hostIp: '192.168.100.2' }],
    otherHostIps: ['192.168.100.2', '192.168.100.3'],
  });
  writeFileSync(`${DIR}/flows.txt`, `${flows.join('\n')}\n`);
  await ovs.ofctl('replace-flows', 'br0', `${DIR}/flows.txt`);
});

after(async () => {
  await ovs?.stop();
});

/** Where a packet goes per ofproto/trace: each output as "port" or "port@tun_dst/key". */
async function outputs(flow: string): Promise<string[]> {
  const trace = await ovs.appctl('ofproto/trace', 'br0', flow);
  const out: string[] = [];
  let tunDst = '';
  let key = '';
  const lines = trace.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.trim();
    let m = /^set_field:([\d.]+)->tun_dst$/.exec(l);
    if (m) tunDst = m[1]!;
    m = /^set_field:(0x[0-9a-f]+)->tun_id$/.exec(l);
    if (m) key = m[1]!;
    m = /^output:(\d+)$/.exec(l);
    if (m && !lines[i + 1]?.includes('skipping output to input port'))
      out.push(Number(m[1]) === TUN ? `${m[1]}@${tunDst}/${key}` : m[1]!);
  }
  return out;
}

const fromTunnel = (extra: string) => `in_port=${TUN},tun_src=192.168.100.2,tun_dst=192.168.100.1,${extra}`;

test('broadcast from a local port: the other local port and each other host once (key 1)', async () => {
  assert.deepEqual(await outputs(`in_port=1,dl_src=${M1},dl_dst=ff:ff:ff:ff:ff:ff`), [
    '2',
    '10@192.168.100.2/0x1',
    '10@192.168.100.3/0x1',
  ]);
});

test('broadcast from the tunnel is delivered locally only (split horizon)', async () => {
  assert.deepEqual(await outputs(fromTunnel(`tun_id=1,dl_src=${REMOTE},dl_dst=ff:ff:ff:ff:ff:ff`)), ['1', '2']);
});

test('unicast: local MAC to its port, remote MAC into the tunnel to its host, unknown dropped', async () => {
  assert.deepEqual(await outputs(`in_port=1,dl_src=${M1},dl_dst=${M2}`), ['2']);
  assert.deepEqual(await outputs(`in_port=2,dl_src=${M2},dl_dst=${REMOTE}`), ['10@192.168.100.2/0x1']);
  assert.deepEqual(await outputs(`in_port=1,dl_src=${M1},dl_dst=02:99:00:00:00:99`), []);
});

test('from the tunnel: key 1 to a local MAC is delivered; other keys and MACs are dropped, never reflected', async () => {
  assert.deepEqual(await outputs(fromTunnel(`tun_id=1,dl_src=${REMOTE},dl_dst=${M1}`)), ['1']);
  assert.deepEqual(await outputs(fromTunnel(`tun_id=2,dl_src=${REMOTE},dl_dst=${M1}`)), []);
  assert.deepEqual(await outputs(fromTunnel(`tun_id=2,dl_src=${REMOTE},dl_dst=ff:ff:ff:ff:ff:ff`)), []);
  assert.deepEqual(await outputs(fromTunnel(`tun_id=1,dl_src=${M1},dl_dst=${REMOTE}`)), []);
});

test('a host with no local VMs still floods to the others and installs no empty action lists', () => {
  const flows = plainFlows({ tunnelOfport: 5, local: [], remote: [], otherHostIps: ['192.168.100.2'] });
  assert.ok(flows.every((f) => !f.endsWith('actions=')));
  assert.ok(flows.some((f) => f.includes('priority=40') && f.includes('192.168.100.2->tun_dst')));
  assert.ok(!flows.some((f) => f.includes('priority=90')), 'nothing to deliver tunnel broadcasts to');
});
