// Flow counts grow linearly with interfaces (never with the square of the ports), and stay near 6 per port.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeFlows } from '../../../src/agent/pipeline/flows.js';
import { buildModelView } from '../../../src/agent/pipeline/model-view.js';
import { synthetic } from './synthetic.js';

function count(interfaces: number, networks: number, hosts: number, networksPerRouter = 0): number {
  const { resources, local } = synthetic({ interfaces, networks, hosts, networksPerRouter });
  return computeFlows(buildModelView(resources), local).length;
}

test('one host: flows per port stay constant from 100 to 1,000 interfaces (10 per network)', () => {
  const small = count(100, 10, 1);
  const large = count(1000, 100, 1);
  const perPortSmall = small / 100;
  const perPortLarge = large / 1000;
  assert.ok(perPortLarge <= 5.5, `${perPortLarge} flows per port`);
  assert.ok(Math.abs(perPortLarge - perPortSmall) < 0.5, `${perPortSmall} → ${perPortLarge}`);
});

test('routers joining two networks add about one flow per port (the neighbour entry) (under 7)', () => {
  const perPort = count(1000, 100, 1, 2) / 1000;
  assert.ok(perPort <= 7, `${perPort} flows per port`);
});

test('growing one network grows the flows linearly, not quadratically', () => {
  const a = count(200, 1, 1);
  const b = count(400, 1, 1);
  const c = count(800, 1, 1);
  // Doubling the ports doubles the flows (± constants), so the increments double too.
  assert.ok(Math.abs((c - b) / (b - a) - 2) < 0.1, `${a} ${b} ${c}`);
});

test('a router joining n networks costs flows linear in n (routes per link, not per pair of networks)', () => {
  const routing = (n: number) => {
    const { resources, local } = synthetic({ interfaces: n * 2, networks: n, hosts: 1, networksPerRouter: n });
    return computeFlows(buildModelView(resources), local).filter((f) => {
      const kind = (f.cookie >> 56n) & 0xffn;
      return kind === 0x05n || kind === 0x06n || ((f.cookie >> 48n) & 0xffn) === 0x04n; // route link, route, icmp
    }).length;
  };
  const a = routing(20);
  const b = routing(40);
  assert.ok(b <= 2 * a + 2, `${a} → ${b}`);
  assert.ok(a <= 3 * 20 + 2, `${a} flows for 20 networks`);
});
