// The DNS service's answers: records first (A, NODATA for other types, the network's domain), then the upstream
// servers (relayed under a fresh id, the next server after a timeout, SERVFAIL when none answers), else REFUSED;
// malformed queries get FORMERR or nothing, and 60k mutated frames never make it throw.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type DnsServiceContext, DnsForwarder, DnsResponder, recordIndex, type UdpPort } from '../../src/dns/index.js';
import {
  buildUdpFrame,
  DNS_RCODE,
  DNS_TYPE,
  type DnsMessage,
  decodeDns,
  decodeUdpFrame,
  encodeDns,
  fromHex,
} from '../../src/packet/index.js';
import { DIG_QUERY } from '../packet/fixtures.js';
import { rng } from '../lib/rng.js';

const VM = { mac: '52:54:00:00:00:11', ip: '10.0.0.11' };
const DNS = { mac: '52:54:00:00:00:fe', ip: '10.0.0.254' };

function ctx(over: Partial<DnsServiceContext> = {}): DnsServiceContext {
  return {
    serviceUuid: 'dnss-1',
    records: recordIndex([
      { name: 'vm1', ipv4_address: '10.0.0.11' },
      { name: 'web.', ipv4_address: '10.0.0.21' },
      { name: 'web', ipv4_address: '10.0.0.22' },
    ]),
    publicDns: [],
    domain: 'dom1',
    ...over,
  };
}

function query(name: string, type: number = DNS_TYPE.A, over: Partial<DnsMessage> = {}): Uint8Array {
  return encodeDns({
    id: 0x1234,
    flags: { qr: false, opcode: 0, aa: false, tc: false, rd: true, ra: false, z: 0, rcode: 0 },
    questions: [{ name, type, class: 1 }],
    answers: [],
    authorities: [],
    additionals: [],
    ...over,
  });
}

function frame(payload: Uint8Array, dstIp = DNS.ip): Uint8Array {
  return buildUdpFrame({
    srcMac: VM.mac,
    dstMac: DNS.mac,
    srcIp: VM.ip,
    dstIp,
    srcPort: 40001,
    dstPort: 53,
    payload,
  });
}

const at = (c: DnsServiceContext) => (dst: string) =>
  dst === DNS.ip ? { ctx: c, ipv4Address: DNS.ip, macAddress: DNS.mac } : null;

async function ask(r: DnsResponder, payload: Uint8Array, c = ctx()) {
  const res = await r.handle(frame(payload), at(c));
  if (!res.reply) return { res, msg: null, udp: null };
  const f = decodeUdpFrame(res.reply);
  return { res, msg: decodeDns(f.udp.payload), udp: f, frame: f };
}

/** An upstream server on a fake socket: answers per `answer` (null: silence, as a dead server). */
function fakeUpstream(answer: (q: DnsMessage, server: string) => DnsMessage | null) {
  const sent: { server: string; q: DnsMessage }[] = [];
  let listener: ((d: Uint8Array, from: { address: string; port: number }) => void) | null = null;
  const port: UdpPort = {
    send(data, address, p) {
      const q = decodeDns(data);
      sent.push({ server: address, q });
      const a = answer(q, address);
      if (a) setImmediate(() => listener?.(encodeDns(a), { address, port: p }));
    },
    onMessage(l) {
      listener = l;
    },
    close() {},
  };
  return { port, sent, inject: (d: Uint8Array, address: string, p = 53) => listener?.(d, { address, port: p }) };
}

function answerFor(q: DnsMessage, address: string, extra: Partial<DnsMessage> = {}): DnsMessage {
  return {
    ...q,
    flags: { ...q.flags, qr: true, ra: true },
    answers: [{ name: q.questions[0]!.name, type: 1, class: 1, ttl: 30, data: new Uint8Array(0), address }],
    ...extra,
  };
}

describe('answers from records', () => {
  test('an A query for a record is answered by the service, back to the VM from the service address', async () => {
    const { res, msg, frame: f } = await ask(new DnsResponder(null), query('vm1'));
    assert.equal(res.event, 'answered');
    assert.equal(msg!.id, 0x1234);
    assert.equal(msg!.flags.qr, true);
    assert.equal(msg!.flags.aa, true);
    assert.equal(msg!.flags.rcode, DNS_RCODE.NOERROR);
    assert.deepEqual(msg!.questions, [{ name: 'vm1', type: 1, class: 1 }]);
    assert.deepEqual(
      msg!.answers.map((a) => [a.name, a.address, a.ttl]),
      [['vm1', '10.0.0.11', 60]],
    );
    assert.equal(f!.eth.src, DNS.mac);
    assert.equal(f!.eth.dst, VM.mac);
    assert.equal(f!.ipv4.src, DNS.ip);
    assert.equal(f!.ipv4.dst, VM.ip);
    assert.equal(f!.udp.srcPort, 53);
    assert.equal(f!.udp.dstPort, 40001);
  });

  test('names match without case or trailing dot, under the network domain too, with every address', async () => {
    const r = new DnsResponder(null);
    assert.equal((await ask(r, query('VM1.'))).msg!.answers[0]!.address, '10.0.0.11');
    assert.equal((await ask(r, query('vm1.DOM1'))).msg!.answers[0]!.address, '10.0.0.11');
    assert.deepEqual(
      (await ask(r, query('web'))).msg!.answers.map((a) => a.address),
      ['10.0.0.21', '10.0.0.22'],
    );
  });

  test("another type for a record's name is NODATA (the name exists), not passed upstream", async () => {
    const sent: string[] = [];
    const r = new DnsResponder({
      exchange: async () => {
        sent.push('x');
        return null;
      },
    });
    const { res, msg } = await ask(r, query('vm1', DNS_TYPE.AAAA), ctx({ publicDns: ['192.0.2.53'] }));
    assert.equal(res.event, 'nodata');
    assert.equal(msg!.flags.rcode, DNS_RCODE.NOERROR);
    assert.equal(msg!.answers.length, 0);
    assert.deepEqual(sent, []);
  });

  test('a name not in the records with no upstream is REFUSED', async () => {
    const { res, msg } = await ask(new DnsResponder(null), query('other.example'));
    assert.equal(res.event, 'refused');
    assert.equal(msg!.flags.rcode, DNS_RCODE.REFUSED);
  });

  test("dig's EDNS query gets an OPT back", async () => {
    const { msg } = await ask(new DnsResponder(null), fromHex(DIG_QUERY));
    assert.equal(msg!.flags.rcode, DNS_RCODE.REFUSED);
    assert.equal(msg!.additionals[0]?.type, DNS_TYPE.OPT);
  });

  test('other opcodes are NOTIMP; bytes that do not decode are FORMERR with their id; responses are dropped', async () => {
    const r = new DnsResponder(null);
    assert.equal(
      (await ask(r, query('vm1', 1, { flags: { ...decodeDns(query('x')).flags, opcode: 2 } }))).msg!.flags.rcode,
      DNS_RCODE.NOTIMP,
    );
    const bad = fromHex('abcd 0100 0001 0000 0000 0000 05 6162');
    const { res, msg } = await ask(r, bad);
    assert.equal(res.event, 'formerr');
    assert.equal(msg!.id, 0xabcd);
    assert.equal(msg!.flags.rcode, DNS_RCODE.FORMERR);
    assert.equal((await ask(r, fromHex('abcd 81'))).res.event, 'malformed');
    const response = query('vm1', 1, { flags: { ...decodeDns(query('x')).flags, qr: true } });
    assert.equal((await ask(r, response)).res.event, 'ignored');
    assert.equal((await r.handle(frame(query('vm1'), '10.0.0.99'), at(ctx()))).event, 'ignored');
  });
});

describe('forwarding to public_dns', () => {
  test('a name not in the records is asked upstream under a fresh id and relayed under the VM’s', async () => {
    const up = fakeUpstream((q) => answerFor(q, '198.51.100.7'));
    const r = new DnsResponder(new DnsForwarder(up.port, { timeoutMs: 500 }));
    const { res, msg } = await ask(r, query('www.example.org'), ctx({ publicDns: ['192.0.2.53'] }));
    assert.equal(res.event, 'forwarded');
    assert.equal(msg!.id, 0x1234);
    assert.equal(msg!.answers[0]!.address, '198.51.100.7');
    assert.equal(up.sent.length, 1);
    assert.equal(up.sent[0]!.server, '192.0.2.53');
  });

  test('a silent server is passed over for the next; none answering is SERVFAIL', async () => {
    const up = fakeUpstream((q, server) => (server === '192.0.2.2' ? answerFor(q, '198.51.100.8') : null));
    const r = new DnsResponder(new DnsForwarder(up.port, { timeoutMs: 100 }));
    const two = ctx({ publicDns: ['192.0.2.1', '192.0.2.2'] });
    const ok = await ask(r, query('a.example'), two);
    assert.equal(ok.msg!.answers[0]!.address, '198.51.100.8');
    assert.deepEqual(
      up.sent.map((s) => s.server),
      ['192.0.2.1', '192.0.2.2'],
    );
    // The silent one is in back-off now: asked last.
    await ask(r, query('b.example'), two);
    assert.equal(up.sent.at(-1)!.server, '192.0.2.2');
    const dead = await ask(r, query('c.example'), ctx({ publicDns: ['192.0.2.1'] }));
    assert.equal(dead.res.event, 'upstream_failed');
    assert.equal(dead.msg!.flags.rcode, DNS_RCODE.SERVFAIL);
  });

  test('answers from another address or for another question are not taken', async () => {
    const up = fakeUpstream(() => null);
    const fwd = new DnsForwarder(up.port, { timeoutMs: 300 });
    const r = new DnsResponder(fwd);
    const pending = ask(r, query('x.example'), ctx({ publicDns: ['192.0.2.1'] }));
    await new Promise((res) => setImmediate(res));
    const q = up.sent[0]!.q;
    up.inject(encodeDns(answerFor(q, '6.6.6.6')), '203.0.113.9');
    up.inject(encodeDns(answerFor({ ...q, questions: [{ name: 'evil', type: 1, class: 1 }] }, '6.6.6.6')), '192.0.2.1');
    up.inject(encodeDns(answerFor(q, '198.51.100.9')), '192.0.2.1');
    const { msg } = await pending;
    assert.equal(msg!.answers[0]!.address, '198.51.100.9');
    assert.equal(fwd.counters.stray, 2);
  });

  test('an upstream answer longer than the VM takes is cut to the question with TC set', async () => {
    const many = (q: DnsMessage) =>
      answerFor(q, '1.1.1.1', {
        answers: Array.from({ length: 60 }, (_, i) => ({
          name: q.questions[0]!.name,
          type: 1,
          class: 1,
          ttl: 5,
          data: new Uint8Array(0),
          address: `10.1.${i}.1`,
        })),
      });
    const up = fakeUpstream(many);
    const r = new DnsResponder(new DnsForwarder(up.port, { timeoutMs: 500 }));
    const { msg } = await ask(r, query('big.example'), ctx({ publicDns: ['192.0.2.1'] }));
    assert.equal(msg!.flags.tc, true);
    assert.equal(msg!.answers.length, 0);
    assert.equal(msg!.questions[0]!.name, 'big.example');
  });
});

test('60k random and mutated query frames: the responder never throws, and every reply decodes', async (t) => {
  const seed = Number(process.env.FUZZ_SEED ?? 0xd45eed);
  const r = rng(seed);
  const seeds = [fromHex(DIG_QUERY), query('vm1'), query('web.dom1'), query('x.example', 28)].map((p) => frame(p));
  // An upstream that answers everything, so forwarded queries come back too.
  const up = fakeUpstream((q) => answerFor(q, '192.0.2.99'));
  const responder = new DnsResponder(new DnsForwarder(up.port, { timeoutMs: 50 }));
  const c = ctx({ publicDns: ['192.0.2.53'] });
  let replies = 0;
  const TOTAL = 60_000;
  for (let i = 0; i < TOTAL; i++) {
    let f: Uint8Array;
    if (i % 10 === 0) {
      f = new Uint8Array(r(300));
      for (let j = 0; j < f.length; j++) f[j] = r(256);
    } else {
      f = seeds[r(seeds.length)]!.slice();
      for (let k = 0, n = 1 + r(4); k < n; k++) {
        // Mostly in the DNS payload (from byte 42), where the decoder works hardest.
        const o = r(3) === 0 ? r(f.length) : 42 + r(Math.max(1, f.length - 42));
        if (r(5) === 0) f = f.subarray(0, o);
        else if (o < f.length) f[o] = r(4) === 0 ? [0, 0xc0, 0xff, 0x3f][r(4)]! : r(256);
      }
    }
    let res: Awaited<ReturnType<DnsResponder['handle']>>;
    try {
      res = await responder.handle(f, at(c));
    } catch (e) {
      assert.fail(`responder threw on seed ${seed} frame ${Buffer.from(f).toString('hex')}: ${String(e)}`);
    }
    if (res.reply) {
      replies++;
      decodeDns(decodeUdpFrame(res.reply).udp.payload);
    }
  }
  t.diagnostic(`seed ${seed}: ${JSON.stringify(responder.counters)}`);
  assert.equal(
    Object.values(responder.counters).reduce((a, b) => a + b, 0),
    TOTAL,
  );
  assert.ok(replies > 5000, `only ${replies} replies`);
  assert.ok(responder.counters.malformed + responder.counters.formerr > 5000, JSON.stringify(responder.counters));
});

describe('over TCP (handlePayload: the message without its length prefix)', () => {
  const target = { ctx: ctx(), ipv4Address: DNS.ip, macAddress: DNS.mac };

  test('answers from the records as over UDP, with the bytes of the answer only', async () => {
    const r = new DnsResponder(null);
    const a = await r.handlePayload(query('vm1'), target);
    assert.equal(a.event, 'answered');
    const m = decodeDns(a.reply!);
    assert.equal(m.id, 0x1234);
    assert.deepEqual(
      m.answers.map((x) => x.type),
      [DNS_TYPE.A],
    );
    assert.equal((await r.handlePayload(query('nope'), target)).event, 'refused');
    assert.equal(r.counters.answered, 1);
  });

  test('no service in the network, or bytes that are no query: nothing to answer', async () => {
    const r = new DnsResponder(null);
    assert.equal((await r.handlePayload(query('vm1'), null)).reply, undefined);
    const junk = await r.handlePayload(new Uint8Array([1, 2, 3]), target);
    assert.equal(junk.reply, undefined);
  });
});
