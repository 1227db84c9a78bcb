// Fuzz: 120k random and mutated frames through every decoder and the DHCP responder; only typed PacketErrors may escape.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DhcpResponder } from '../../src/dhcp/index.js';
import {
  decodeArp,
  decodeDhcp,
  decodeEthernet,
  decodeFrame,
  decodeIcmp,
  decodeIpv4,
  decodeUdp,
  decodeUdpFrame,
  fromHex,
  isPacketError,
  readClasslessRoutes,
} from '../../src/packet/index.js';
import { clientFrame, context } from '../dhcp/helpers.js';
import { ARP_VLAN, ICMP_ECHO_FRAME, UDHCPC_DISCOVER, UDHCPC_REQUEST, UDHCPD_OFFER, UDP_ODD_FRAME } from './fixtures.js';
import { rng } from '../lib/rng.js';

const SEEDS = [
  ...[UDHCPC_DISCOVER, UDHCPC_REQUEST, UDHCPD_OFFER, ARP_VLAN, ICMP_ECHO_FRAME, UDP_ODD_FRAME].map(fromHex),
  clientFrame({ type: 3, ciaddr: '10.0.0.20', dstIp: '10.0.0.2' }),
  clientFrame({ type: 8, ciaddr: '10.0.0.20', dstIp: '10.0.0.2' }),
  clientFrame({ type: 1, vlans: [{ tpid: 0x8100, pcp: 1, dei: false, vid: 7 }] }),
  clientFrame({ type: 3, requested: '10.0.0.20', extra: [{ code: 52, data: Uint8Array.of(3) }] }),
];

function mutate(r: (n: number) => number, base: Uint8Array): Uint8Array {
  let f = base.slice();
  const n = 1 + r(4);
  for (let k = 0; k < n; k++) {
    switch (r(6)) {
      case 0: // flip a bit
        f[r(f.length)]! ^= 1 << r(8);
        break;
      case 1: // set a byte to an edge value
        f[r(f.length)] = [0, 1, 0x7f, 0x80, 0xff, 52, 53, 255][r(8)]!;
        break;
      case 2: // truncate
        f = f.subarray(0, r(f.length + 1));
        break;
      case 3: {
        // extend with random bytes
        const g = new Uint8Array(f.length + 1 + r(64));
        g.set(f);
        for (let i = f.length; i < g.length; i++) g[i] = r(256);
        f = g;
        break;
      }
      case 4: // scribble over the DHCP options area, where the parser works hardest
        for (let i = 0, o = 282 + r(40); i < 8 && o + i < f.length; i++) f[o + i] = r(256);
        break;
      default: // random run anywhere
        for (let i = 0, o = r(f.length); i < 4 && o + i < f.length; i++) f[o + i] = r(256);
    }
    if (f.length === 0) break;
  }
  return f;
}

function mustBeTyped(fn: () => unknown, what: string, frame: Uint8Array): void {
  try {
    fn();
  } catch (e) {
    if (!isPacketError(e)) {
      assert.fail(`${what} threw a non-PacketError on ${Buffer.from(frame).toString('hex')}: ${String(e)}`);
    }
  }
}

function layers(frame: Uint8Array, r: (n: number) => number): void {
  mustBeTyped(() => decodeEthernet(frame), 'decodeEthernet', frame);
  mustBeTyped(() => decodeArp(frame.subarray(14)), 'decodeArp', frame);
  mustBeTyped(() => decodeIpv4(frame.subarray(14)), 'decodeIpv4', frame);
  mustBeTyped(() => decodeUdp(frame.subarray(34)), 'decodeUdp', frame);
  mustBeTyped(() => decodeIcmp(frame.subarray(34)), 'decodeIcmp', frame);
  mustBeTyped(() => decodeDhcp(frame.subarray(42)), 'decodeDhcp', frame);
  mustBeTyped(() => readClasslessRoutes(frame.subarray(42, 42 + r(40))), 'readClasslessRoutes', frame);
}

test('120k random/mutated frames: decoders throw only PacketErrors, the responder never throws', (t) => {
  const seed = Number(process.env.FUZZ_SEED ?? 0x5eed1234);
  const r = rng(seed);
  const responder = new DhcpResponder();
  const ctx = context({
    client: { interfaceUuid: 'if-vm1', macAddress: '52:54:00:12:34:56', ipv4Address: '10.0.0.20' },
  });
  const TOTAL = 120_000;
  let replies = 0;
  for (let i = 0; i < TOTAL; i++) {
    let frame: Uint8Array;
    if (i % 10 === 0) {
      frame = new Uint8Array(r(700));
      for (let j = 0; j < frame.length; j++) frame[j] = r(256);
    } else {
      frame = mutate(r, SEEDS[r(SEEDS.length)]!);
    }
    mustBeTyped(() => decodeFrame(frame), 'decodeFrame', frame);
    // Each layer decoder on its own, at its usual offset, for a quarter of the frames (throwing is the
    // expensive part; the responder below covers the whole stack for every frame).
    if (i % 4 === 0) layers(frame, r);
    let res: ReturnType<DhcpResponder['handle']>;
    try {
      res = responder.handle(frame, ctx);
    } catch (e) {
      assert.fail(`responder threw on seed ${seed} frame ${Buffer.from(frame).toString('hex')}: ${String(e)}`);
    }
    if (res.reply) {
      replies++;
      // Whatever the request looked like, our reply is a well-formed frame.
      decodeDhcp(decodeUdpFrame(res.reply).udp.payload);
    }
  }
  t.diagnostic(`seed ${seed}: ${JSON.stringify(responder.counters)}`);
  const total = Object.values(responder.counters).reduce((a, b) => a + b, 0);
  assert.equal(total, TOTAL);
  // The mutations must reach deep: some requests still get answered, many are malformed.
  assert.ok(replies > 1000, `only ${replies} replies`);
  assert.ok(responder.counters.malformed > 10_000, `only ${responder.counters.malformed} malformed`);
  assert.ok(responder.counters.ignored > 1000, `only ${responder.counters.ignored} ignored`);
});
