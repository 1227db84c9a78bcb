// Fuzz: >=100k mutated messages at the decoder and >=100k at live connections (fake fault-injecting switch): no crash, no hang, bounded memory.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ConnectionClosedError,
  decodeMessage,
  encodeMessage,
  type OFMessage,
  OpenFlowDecodeError,
  OpenFlowServer,
  RequestTimeoutError,
  type SwitchConnection,
} from '../../src/openflow/index.js';
import { CORPUS, match } from './corpus.js';
import { FakeSwitch } from './fake-switch.js';

/** Deterministic PRNG (mulberry32) so a failure can be replayed from the printed seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const port = {
  portNo: 3,
  hwAddr: 0x525400123456n,
  name: 'vif3',
  config: 0,
  state: 4,
  curr: 0,
  advertised: 0,
  supported: 0,
  peer: 0,
  currSpeed: 0,
  maxSpeed: 0,
};
const SEEDS: OFMessage[] = [
  ...CORPUS.map((e): OFMessage => ({ type: 'flow_mod', xid: 1, command: 'add', flow: e.flow })),
  {
    type: 'packet_in',
    xid: 0,
    bufferId: 0xffffffff,
    totalLen: 60,
    reason: 1,
    tableId: 3,
    cookie: 0x42n,
    match: match({ in_port: 2, reg0: 7, metadata: 5n }),
    data: new Uint8Array(60),
  },
  { type: 'port_status', xid: 0, reason: 0, port },
  {
    type: 'flow_removed',
    xid: 0,
    cookie: 9n,
    priority: 5,
    reason: 0,
    tableId: 2,
    durationSec: 1,
    durationNsec: 2,
    idleTimeout: 10,
    hardTimeout: 0,
    packetCount: 3n,
    byteCount: 4n,
    match: match({ in_port: 1 }),
  },
  {
    type: 'multipart_reply',
    xid: 5,
    flags: 0,
    body: {
      mpType: 'flow',
      flows: CORPUS.slice(0, 5).map((e) => ({
        flow: e.flow,
        durationSec: 1,
        durationNsec: 0,
        packetCount: 1n,
        byteCount: 2n,
      })),
    },
  },
  { type: 'multipart_reply', xid: 5, flags: 0, body: { mpType: 'port_desc', ports: [port, port] } },
  { type: 'error', xid: 9, errType: 4, errCode: 9, data: new Uint8Array(16) },
  { type: 'echo_request', xid: 3, data: new Uint8Array([1, 2]) },
  { type: 'hello', xid: 1, versions: [1, 4, 5] },
  {
    type: 'group_mod',
    xid: 1,
    command: 'add',
    groupType: 'select',
    groupId: 1,
    buckets: [{ weight: 1, actions: [{ type: 'output', port: 1 }] }],
  },
  {
    type: 'bundle_add',
    xid: 4,
    bundleId: 1,
    flags: 1,
    message: { type: 'flow_mod', command: 'add', flow: CORPUS[3]?.flow ?? CORPUS[0]!.flow },
  },
];
const SEED_BYTES = SEEDS.map((m) => encodeMessage(m));

/** One mutation of a valid message; the header length is kept consistent unless `breakFrame`. */
function mutate(rnd: () => number, src: Uint8Array, breakFrame = false): Uint8Array {
  let b = src.slice();
  const kind = Math.floor(rnd() * 6);
  const at = () => 8 + Math.floor(rnd() * Math.max(1, b.length - 8));
  switch (kind) {
    case 0: // flip bits
      for (let i = 0, n = 1 + Math.floor(rnd() * 4); i < n; i++) {
        const j = at();
        b[j] = (b[j] ?? 0) ^ (1 << Math.floor(rnd() * 8));
      }
      break;
    case 1: // random bytes
      for (let i = 0, n = 1 + Math.floor(rnd() * 8); i < n; i++) b[at()] = Math.floor(rnd() * 256);
      break;
    case 2: // truncate
      b = b.slice(0, 8 + Math.floor(rnd() * (b.length - 8)));
      break;
    case 3: {
      // insert junk
      const pos = at();
      const junk = Uint8Array.from({ length: 1 + Math.floor(rnd() * 16) }, () => Math.floor(rnd() * 256));
      const nb = new Uint8Array(b.length + junk.length);
      nb.set(b.subarray(0, pos));
      nb.set(junk, pos);
      nb.set(b.subarray(pos), pos + junk.length);
      b = nb.slice(0, 0xffff);
      break;
    }
    case 4: // set an inner 16-bit length-like field to something odd
      if (b.length > 12)
        new DataView(b.buffer).setUint16(
          8 + 2 * Math.floor(rnd() * ((b.length - 10) / 2)),
          Math.floor(rnd() * 0x10000),
        );
      break;
    default: // change the message type
      b[1] = Math.floor(rnd() * 32);
  }
  const dv = new DataView(b.buffer);
  if (b.length >= 4) dv.setUint16(2, breakFrame ? Math.floor(rnd() * 0x10000) : b.length);
  return b;
}

describe('fuzz: decoder', () => {
  test('100k mutated messages: only OpenFlowDecodeError, never anything else', () => {
    const seed = Number(process.env.FUZZ_SEED ?? 0x5eed);
    const rnd = prng(seed);
    let errors = 0;
    let ok = 0;
    const t0 = Date.now();
    for (let i = 0; i < 100_000; i++) {
      const src = SEED_BYTES[i % SEED_BYTES.length] as Uint8Array;
      const b = mutate(rnd, src);
      try {
        const m = decodeMessage(b);
        // Whatever decodes must encode again without throwing anything but encode errors.
        try {
          encodeMessage(m);
        } catch (e) {
          assert.equal((e as { code?: string }).code, 'OF_ENCODE', `seed ${seed} #${i}: ${(e as Error).stack}`);
        }
        ok++;
      } catch (e) {
        if (!(e instanceof OpenFlowDecodeError)) assert.fail(`seed ${seed} message #${i} threw ${(e as Error).stack}`);
        errors++;
      }
    }
    assert.equal(ok + errors, 100_000);
    assert.ok(errors > 20_000 && ok > 5_000, `errors ${errors}, decoded ${ok}`);
    assert.ok(Date.now() - t0 < 30_000);
  });
});

describe('fuzz and faults: connection with a fake switch', () => {
  let server: OpenFlowServer;
  let portNo: number;
  const conns: SwitchConnection[] = [];
  before(async () => {
    server = new OpenFlowServer({
      port: 0,
      handshakeTimeoutMs: 300,
      idleTimeoutMs: 400,
      echoIntervalMs: 100,
      requestTimeoutMs: 2000,
    });
    server.on('connection', (c) => conns.push(c));
    server.on('handshakeError', () => {});
    portNo = (await server.listen()).port;
  });
  after(async () => {
    await server.close();
  });

  async function connected(
    dpid: bigint,
    opts: Partial<Parameters<typeof FakeSwitch.open>[0]> = {},
  ): Promise<[FakeSwitch, SwitchConnection]> {
    const wait = server.waitFor(dpid, 3000);
    const f = await FakeSwitch.open({ port: portNo, dpid, ...opts });
    return [f, await wait];
  }

  test('100k mutated messages processed by live connections: no crash, no hang, bounded memory', async (t) => {
    const rnd = prng(0xf00d);
    global.gc?.();
    const heap0 = process.memoryUsage().heapUsed;
    let sent = 0;
    let processed = 0;
    let connections = 0;
    let closedByUs = 0;
    const reasons = new Map<string, number>();
    const events = { packetIn: 0, portStatus: 0, other: 0 };
    const t0 = Date.now();
    // Several fake switches at once; each streams messages (2% mutated, a few with broken
    // framing) until our side drops it for bad input, then the next one connects.
    const worker = async (w: number) => {
      while (processed < 100_000) {
        const dpid = BigInt(1000 + w * 100_000 + connections++);
        const [f, c] = await connected(dpid);
        c.on('packetIn', () => events.packetIn++);
        c.on('portStatus', () => events.portStatus++);
        c.on('message', () => events.other++);
        c.on('switchError', () => events.other++);
        // A request in flight while garbage arrives must settle (reply, error or close), never hang.
        const pending = c.dumpFlows().then(
          () => 'ok',
          (e: Error) => e.constructor.name,
        );
        let n = 0;
        while (!f.closed && !c.closed && n < 20_000) {
          const parts: Uint8Array[] = [];
          for (let k = 0; k < 100; k++, n++) {
            const src = SEED_BYTES[Math.floor(rnd() * SEED_BYTES.length)] as Uint8Array;
            const r = rnd();
            parts.push(r < 0.98 ? src : mutate(rnd, src, r > 0.9995));
          }
          f.write(Buffer.concat(parts));
          sent += parts.length;
          await f.drained();
          await new Promise((r) => setImmediate(r));
        }
        const outcome = await Promise.race([pending, new Promise((r) => setTimeout(() => r('hang'), 3000))]);
        assert.notEqual(outcome, 'hang', 'a pending request never settled');
        if (c.closed) {
          closedByUs++;
          const k = c.closeReason.replace(/:.*/s, '');
          reasons.set(k, (reasons.get(k) ?? 0) + 1);
        }
        processed += c.stats.rxMessages;
        c.close();
        f.destroy();
      }
    };
    await Promise.all([0, 1, 2, 3].map(worker));
    global.gc?.();
    const grown = process.memoryUsage().heapUsed - heap0;
    t.diagnostic(
      `${processed} messages processed (${sent} sent) over ${connections} connections, ${closedByUs} closed by us ${JSON.stringify(Object.fromEntries(reasons))}; events ${JSON.stringify(events)}; heap +${Math.round(grown / 1024)} KiB; ${Date.now() - t0} ms`,
    );
    assert.ok(processed >= 100_000);
    assert.ok(grown < 150 * 1024 * 1024, `heap grew ${grown} bytes`);
    assert.ok(closedByUs > 0, 'some garbage must have closed connections');
    assert.ok(events.packetIn > 0);
    assert.ok(Date.now() - t0 < 50_000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(server.connections.size, 0);
  });

  test('malformed framing closes the connection with a logged reason; pending requests reject', async () => {
    const [f, c] = await connected(0xb1n);
    const pending = c.dumpFlows().catch((e: unknown) => e);
    f.write(Uint8Array.from([4, 10, 0, 4, 0, 0, 0, 0])); // length 4 < 8
    assert.ok(await f.waitClosed());
    assert.match(c.closeReason, /malformed input: message length 4/);
    const e = await pending;
    assert.ok(e instanceof ConnectionClosedError && e.code === 'OF_CLOSED');
  });

  test('wrong version after the handshake closes', async () => {
    const [f, c] = await connected(0xb2n);
    f.write(Uint8Array.from([1, 2, 0, 8, 0, 0, 0, 1]));
    assert.ok(await f.waitClosed());
    assert.match(c.closeReason, /version 0x1/);
  });

  test('a switch offering no OpenFlow 1.3 gets HELLO_FAILED and is closed', async () => {
    const f = await FakeSwitch.open({ port: portNo, versions: [1] });
    assert.ok(await f.waitClosed());
    assert.ok(f.received.some((m) => m.type === 'error' && m.errType === 0));
  });

  test('no handshake in time: closed', async () => {
    const f = await FakeSwitch.open({ port: portNo, noHello: true, answer: false });
    assert.ok(await f.waitClosed(2000));
  });

  test('a silent switch is dropped by the echo timeout and its requests reject', async () => {
    const [f, c] = await connected(0xb3n);
    (f as unknown as { opts: { answer: boolean } }).opts.answer = false;
    const e = await c.dumpFlows().catch((x: unknown) => x);
    assert.ok(e instanceof ConnectionClosedError, String(e));
    assert.match(c.closeReason, /echo timeout/);
    f.destroy();
  });

  test('an undecodable reply fails only its request; the connection stays', async () => {
    const [f, c] = await connected(0xb4n, {
      onMultipart: (m) => {
        const good = encodeMessage({
          type: 'multipart_reply',
          xid: m.xid ?? 0,
          flags: 0,
          body: { mpType: 'port_desc', ports: [] },
        });
        if (m.mpType !== 'flow') return [good];
        const bad = encodeMessage({
          type: 'multipart_reply',
          xid: m.xid ?? 0,
          flags: 0,
          body: {
            mpType: 'flow',
            flows: [{ flow: CORPUS[0]!.flow, durationSec: 0, durationNsec: 0, packetCount: 0n, byteCount: 0n }],
          },
        });
        bad[16] = 0; // flow stats entry length 0
        bad[17] = 0;
        return [bad];
      },
    });
    const e = await c.dumpFlows().catch((x: unknown) => x);
    assert.ok(e instanceof OpenFlowDecodeError, String(e));
    assert.equal(c.closed, false);
    assert.deepEqual(await c.portDesc(), []);
    c.close();
    f.destroy();
  });

  test('a request without reply times out with a typed error', async () => {
    const [f, c] = await connected(0xb5n, { onMultipart: () => undefined });
    const e = await c
      .request({ type: 'multipart_request', mpType: 'desc' }, { timeoutMs: 150 })
      .catch((x: unknown) => x);
    assert.ok(e instanceof RequestTimeoutError && e.code === 'OF_TIMEOUT', String(e));
    c.close();
    f.destroy();
  });

  test('an oversized multipart reply closes the connection', async () => {
    const s2 = new OpenFlowServer({ port: 0, maxReplyBytes: 10_000 });
    const p = (await s2.listen()).port;
    const wait = s2.waitFor(0xb6n);
    const f = await FakeSwitch.open({
      port: p,
      dpid: 0xb6n,
      onMultipart: (m) => {
        const part = encodeMessage({
          type: 'multipart_reply',
          xid: m.xid ?? 0,
          flags: 1,
          body: { mpType: 'port_desc', ports: Array(50).fill(port) },
        });
        return Array(10).fill(part);
      },
    });
    const c = await wait;
    const e = await c.portDesc().catch((x: unknown) => x);
    assert.ok(e instanceof ConnectionClosedError);
    assert.match(c.closeReason, /oversized input/);
    f.destroy();
    await s2.close();
  });
});
