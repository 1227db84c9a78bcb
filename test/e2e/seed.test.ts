// The demo's seed layout and matrix expectations (pure; the e2e tests and `vnet demo` rely on them).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatMatrix } from '../../src/demo/matrix.js';
import { expectedReachable, matrixTargets, SEED_VMS, seedApiCalls, seedVnctlLines } from '../../src/demo/seed.js';

const vm = (n: string) => SEED_VMS.find((v) => v.name === n)!;
const target = (label: string) => matrixTargets().find((t) => t.label === label)!;

test('the matrix expects what the seed documents show', () => {
  assert.equal(expectedReachable(vm('ns1'), target('ns2')), true);
  assert.equal(expectedReachable(vm('ns3'), target('ns4')), true);
  assert.equal(expectedReachable(vm('ns5'), target('ns6')), true);
  assert.equal(expectedReachable(vm('ns1'), target('ns3')), true, 'routed');
  assert.equal(expectedReachable(vm('ns4'), target('ns2')), true, 'routed');
  assert.equal(expectedReachable(vm('ns1'), target('gw 172.16.1.254')), true);
  assert.equal(expectedReachable(vm('ns1'), target('gw 172.16.2.254')), true);
  assert.equal(expectedReachable(vm('ns5'), target('ns2')), false, 'net3 is isolated from net1');
  assert.equal(expectedReachable(vm('ns2'), target('ns5')), false);
  assert.equal(expectedReachable(vm('ns6'), target('ns3')), false);
  assert.equal(expectedReachable(vm('ns5'), target('gw 172.16.1.254')), false, 'net3 has no router');
});

test('API calls create networks before interfaces and the route link before routes', () => {
  const calls = seedApiCalls([{ uuid: 'dp-a' }]);
  const idx = (pred: (c: (typeof calls)[number]) => boolean) => calls.findIndex(pred);
  const firstIf = idx((c) => c.path === '/interfaces');
  const lastNet = calls.map((c) => c.path).lastIndexOf('/networks');
  assert.ok(lastNet < firstIf);
  assert.ok(idx((c) => c.path === '/route_links') < idx((c) => c.path === '/routes'));
  assert.equal(calls.filter((c) => c.path === '/routes').length, 2);
  assert.ok(calls.some((c) => c.path === '/datapaths/dp-a/networks/nw-net3'));
});

test('the seed vnctl lines keep the seeds spelling', () => {
  const lines = seedVnctlLines('http://127.0.0.1:9090', {
    uuid: 'dp-br0',
    dpid: '0x000002fdee8e0a44',
    nodeId: 'n',
    ip: '10.0.0.1',
  });
  assert.deepEqual(lines[0]!.slice(0, 5), ['vnctl', 'datapath', 'add', '--uuid', 'dp-br0']);
  assert.ok(
    lines.some((l) => l.join(' ').includes('--uuid=if-veth6 --ipv4-address=172.16.1.2 --network-uuid=nw-net3')),
  );
  assert.ok(lines.some((l) => l[0] === 'curl' && l.includes('mode=simulated')));
});

test('formatMatrix marks wrong cells FAIL / LEAK and counts them', () => {
  const text = formatMatrix({
    cells: [
      { src: 'ns1', target: 'ns2', expected: true, seen: true },
      { src: 'ns1', target: 'ns3', expected: true, seen: false },
      { src: 'ns5', target: 'ns2', expected: false, seen: true },
    ],
    wrong: [
      { src: 'ns1', target: 'ns3', expected: true, seen: false },
      { src: 'ns5', target: 'ns2', expected: false, seen: true },
    ],
  });
  assert.match(text, /FAIL/);
  assert.match(text, /LEAK/);
  assert.match(text, /2 of 3 cells wrong/);
});
