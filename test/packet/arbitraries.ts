// fast-check generators of valid packet models, shared by the round-trip and fuzz tests.
import fc from 'fast-check';
import type {
  ArpPacket,
  DhcpMessage,
  DhcpOption,
  EthernetFrame,
  IcmpMessage,
  Ipv4Packet,
  VlanTag,
} from '../../src/packet/index.js';

// fast-check records have a null prototype by default, which deepStrictEqual tells apart from decoded objects.
const rec: typeof fc.record = ((model: any) => fc.record(model, { noNullPrototype: true })) as any;

const hex2 = fc.integer({ min: 0, max: 255 }).map((b) => b.toString(16).padStart(2, '0'));
export const mac = fc.array(hex2, { minLength: 6, maxLength: 6 }).map((p) => p.join(':'));
export const ipv4 = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }).map((p) => p.join('.'));
export const bytes = (maxLength: number) => fc.uint8Array({ maxLength });

export const vlanTag: fc.Arbitrary<VlanTag> = rec({
  tpid: fc.constantFrom(0x8100, 0x88a8),
  pcp: fc.integer({ min: 0, max: 7 }),
  dei: fc.boolean(),
  vid: fc.integer({ min: 0, max: 4095 }),
});

export const ethernet: fc.Arbitrary<EthernetFrame> = rec({
  dst: mac,
  src: mac,
  vlans: fc.array(vlanTag, { maxLength: 2 }),
  // Not a VLAN TPID: those would be read as another tag.
  ethertype: fc.integer({ min: 0, max: 0xffff }).filter((t) => t !== 0x8100 && t !== 0x88a8),
  payload: bytes(100),
});

export const arp: fc.Arbitrary<ArpPacket> = rec({
  op: fc.integer({ min: 0, max: 0xffff }),
  sha: mac,
  spa: ipv4,
  tha: mac,
  tpa: ipv4,
});

export const ipv4Packet: fc.Arbitrary<Ipv4Packet> = rec({
  dscp: fc.integer({ min: 0, max: 63 }),
  ecn: fc.integer({ min: 0, max: 3 }),
  id: fc.integer({ min: 0, max: 0xffff }),
  df: fc.boolean(),
  mf: fc.boolean(),
  fragmentOffset: fc.integer({ min: 0, max: 0x1fff }),
  ttl: fc.integer({ min: 0, max: 255 }),
  protocol: fc.integer({ min: 0, max: 255 }),
  src: ipv4,
  dst: ipv4,
  options: fc.integer({ min: 0, max: 10 }).chain((n) => fc.uint8Array({ minLength: 4 * n, maxLength: 4 * n })),
  payload: bytes(200),
});

export const icmp: fc.Arbitrary<IcmpMessage> = rec({
  type: fc.integer({ min: 0, max: 255 }),
  code: fc.integer({ min: 0, max: 255 }),
  rest: fc.integer({ min: 0, max: 0xffffffff }),
  payload: bytes(64),
});

const cstring = (max: number) =>
  fc.array(fc.integer({ min: 1, max: 255 }), { maxLength: max }).map((cs) => String.fromCharCode(...cs));

const option: fc.Arbitrary<DhcpOption> = rec({
  code: fc.integer({ min: 1, max: 254 }).filter((c) => c !== 52), // 52 (overload) changes how the rest is read
  data: bytes(300),
});

export const dhcp: fc.Arbitrary<DhcpMessage> = rec({
  op: fc.integer({ min: 0, max: 255 }),
  htype: fc.integer({ min: 0, max: 255 }),
  hops: fc.integer({ min: 0, max: 255 }),
  xid: fc.integer({ min: 0, max: 0xffffffff }),
  secs: fc.integer({ min: 0, max: 0xffff }),
  flags: fc.integer({ min: 0, max: 0xffff }),
  ciaddr: ipv4,
  yiaddr: ipv4,
  siaddr: ipv4,
  giaddr: ipv4,
  chaddr: fc.array(hex2, { maxLength: 16 }).map((p) => p.join(':')),
  sname: cstring(63),
  file: cstring(127),
  // Unique codes: RFC 3396 concatenates repeats, so repeats do not round-trip as separate entries.
  options: fc.uniqueArray(option, { selector: (o) => o.code, maxLength: 8 }),
});
