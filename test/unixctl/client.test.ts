// unixctlCall, ofprotoTrace and findVswitchdControlSocket against fake unix-socket servers in a temp dir: a correct
// answer, an error answer, garbage, a reset, a close, silence (timeout), a huge reply, mis-shaped replies. The real
// ovs-vswitchd is in unixctl.ovs.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  DEFAULT_UNIXCTL_MAX_REPLY_BYTES,
  findVswitchdControlSocket,
  ofprotoTrace,
  UnixctlError,
  unixctlCall,
} from '../../src/unixctl/index.js';
import { CodedError } from '../../src/util/errors.js';
import { type FakeConn, type FakePeer, startFakePeer } from '../ovsdb/fake-peer.js';

const dir = mkdtempSync(join(tmpdir(), 'vnet-unixctl-'));
const peers: FakePeer[] = [];
const servers: Server[] = [];
after(async () => {
  for (const p of peers) await p.close();
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
/** A fake daemon at `<dir>/<name>`; onMessage's return value is sent as the reply. */
async function fake(
  onMessage: (m: Record<string, unknown>, c: FakeConn) => unknown,
  name = `d${++seq}.ctl`,
): Promise<FakePeer> {
  const peer = await startFakePeer(onMessage, join(dir, name));
  peers.push(peer);
  return peer;
}

/** Asserts that `p` rejects with a UnixctlError of `reason` whose message matches `msg`. */
async function rejectsWith(p: Promise<unknown>, reason: UnixctlError['reason'], msg: RegExp): Promise<UnixctlError> {
  let caught: unknown;
  await p.then(
    () => assert.fail('expected a UnixctlError'),
    (e) => {
      caught = e;
    },
  );
  assert.ok(caught instanceof UnixctlError, `not a UnixctlError: ${caught}`);
  assert.ok(caught instanceof CodedError);
  assert.equal(caught.reason, reason, caught.message);
  assert.match(caught.message, msg);
  return caught;
}

describe('unixctlCall', () => {
  test('sends one JSON-RPC 1.0 request and returns the result text verbatim', async () => {
    const text = 'ovs-vswitchd (Open vSwitch) 3.1.0\nünïcode ✓\n';
    const peer = await fake((m) => ({ id: m.id, result: text, error: null }));
    assert.equal(await unixctlCall(peer.path, 'version', []), text);
    assert.deepEqual(peer.conns[0]!.received, [{ id: 0, method: 'version', params: [] }]);
    // One connection per call, as ovs-appctl does.
    assert.equal(await unixctlCall(peer.path, 'dpif/show', ['br0']), text);
    assert.equal(peer.conns.length, 2);
    assert.deepEqual(peer.conns[1]!.received, [{ id: 0, method: 'dpif/show', params: ['br0'] }]);
  });

  test('a reply that arrives a byte at a time (a multi-byte character split too) is reassembled', async () => {
    const text = 'Flow: …\nbridge("br0")\n';
    const peer = await fake((_m, c) => {
      const bytes = Buffer.from(JSON.stringify({ id: 0, result: text, error: null }));
      let i = 0;
      const tick = setInterval(() => {
        if (i >= bytes.length) clearInterval(tick);
        else c.raw(bytes.subarray(i, ++i));
      }, 1);
    });
    assert.equal(await unixctlCall(peer.path, 'ofproto/trace', ['br0', 'in_port=1']), text);
  });

  test('an error answer throws UnixctlError rpc naming the method, with OVS message kept', async () => {
    const ovs = '"nope" is not a valid command (use "list-commands" to see a list of valid commands)\n';
    const peer = await fake(() => ({ id: 0, result: null, error: ovs }));
    const e = await rejectsWith(unixctlCall(peer.path, 'nope', []), 'rpc', /^nope: "nope" is not a valid command/);
    assert.equal(e.code, 'UNIXCTL_RPC');
    assert.equal(e.method, 'nope');
    assert.equal(e.ovsMessage, ovs);
    assert.ok(!e.message.endsWith('\n'));
  });

  test('garbage bytes are a framing error, not a crash', async () => {
    const peer = await fake((_m, c) => c.raw('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const e = await rejectsWith(
      unixctlCall(peer.path, 'version', []),
      'framing',
      /sent bytes that are not a JSON reply/,
    );
    assert.equal(e.code, 'UNIXCTL_FRAMING');
    const peer2 = await fake((_m, c) => c.raw('{"id":0,"result":"x",,}'));
    await rejectsWith(unixctlCall(peer2.path, 'version', []), 'framing', /not a JSON reply/);
  });

  test('a reset or a close before the answer is `closed`', async () => {
    // A unix socket closed with the request unread in it is a reset for the client (ECONNRESET on Linux).
    const resetPath = join(dir, 'reset.ctl');
    const reset = createServer({ pauseOnConnect: true }, (s) => setTimeout(() => s.destroy(), 30));
    servers.push(reset);
    await new Promise<void>((r) => reset.listen(resetPath, () => r()));
    await rejectsWith(
      unixctlCall(resetPath, 'version', []),
      'closed',
      /^reset (dropped the connection during version: read ECONNRESET|closed the connection before answering version)$/,
    );
    const closed = await fake((_m, c) => c.socket.end());
    await rejectsWith(
      unixctlCall(closed.path, 'version', []),
      'closed',
      /closed the connection before answering version$/,
    );
    const half = await fake((_m, c) => c.socket.end('{"id":0,"result":"abc'));
    await rejectsWith(unixctlCall(half.path, 'version', []), 'closed', /after \d+ bytes of an unfinished reply/);
  });

  test('silence: UnixctlError timeout "ovs-vswitchd did not answer <method> within …", and the socket is closed', async () => {
    const peer = await fake(() => undefined, 'ovs-vswitchd.ctl');
    const t0 = Date.now();
    const e = await rejectsWith(
      unixctlCall(peer.path, 'ofproto/trace', ['br0', 'in_port=1'], { timeoutMs: 150 }),
      'timeout',
      /^ovs-vswitchd did not answer ofproto\/trace within 150 ms \(/,
    );
    assert.equal(e.code, 'UNIXCTL_TIMEOUT');
    assert.ok(Date.now() - t0 < 2000);
    // The client hung up: the fake sees its end of the connection close.
    await new Promise<void>((resolve) => {
      const s = peer.conns[0]!.socket;
      if (s.destroyed || s.readableEnded) resolve();
      else s.once('close', () => resolve());
    });
  });

  test('a reply over the cap is refused without reading it all (default 16 MiB, and a smaller one)', async () => {
    assert.equal(DEFAULT_UNIXCTL_MAX_REPLY_BYTES, 16 * 1024 * 1024);
    const huge = await fake((_m, c) => {
      c.raw('{"id":0,"error":null,"result":"');
      const mib = Buffer.alloc(1024 * 1024, 'a');
      for (let i = 0; i < 17 && !c.socket.destroyed; i++) c.raw(mib);
      c.raw('"}');
    });
    await rejectsWith(unixctlCall(huge.path, 'version', []), 'framing', /a reply larger than 16777216 bytes/);
    const small = await fake(() => ({ id: 0, result: 'x'.repeat(2000), error: null }));
    await rejectsWith(
      unixctlCall(small.path, 'version', [], { maxReplyBytes: 1000 }),
      'framing',
      /a reply larger than 1000 bytes/,
    );
  });

  test('mis-shaped replies are protocol errors naming what is wrong', async () => {
    const cases: [unknown, RegExp][] = [
      [{ id: 0, error: null }, /a reply without result/],
      [{ id: 0, result: null, error: null }, /a reply without result/],
      [{ id: 0, result: 42, error: null }, /a result that is not text/],
      [{ id: 7, result: 'x', error: null }, /a reply whose id is 7, not 0/],
      [['x'], /not an object/],
    ];
    for (const [reply, msg] of cases) {
      const peer = await fake(() => reply);
      const e = await rejectsWith(unixctlCall(peer.path, 'version', []), 'protocol', msg);
      assert.equal(e.code, 'UNIXCTL_PROTOCOL');
    }
    // An error that is not a string is shown as JSON.
    const peer = await fake(() => ({ id: 0, result: null, error: { why: 'x' } }));
    await rejectsWith(unixctlCall(peer.path, 'version', []), 'rpc', /^version: \{"why":"x"\}$/);
  });

  test('no socket, a regular file: `connect` errors naming the path', async () => {
    const missing = join(dir, 'missing.ctl');
    await rejectsWith(
      unixctlCall(missing, 'version', []),
      'connect',
      /cannot connect to missing at .*missing\.ctl: no such socket/,
    );
    const file = join(dir, 'ovs-vswitchd.123.ctl');
    writeFileSync(file, 'not a socket');
    const e = await rejectsWith(unixctlCall(file, 'version', []), 'connect', /cannot connect to ovs-vswitchd at /);
    assert.equal(e.code, 'UNIXCTL_CONNECT');
    rmSync(file);
  });

  test('bad arguments are refused before connecting', async () => {
    await assert.rejects(unixctlCall(join(dir, 'x'), '', []), TypeError);
    await assert.rejects(unixctlCall(join(dir, 'x'), 'version', [1 as unknown as string]), TypeError);
    await assert.rejects(unixctlCall(join(dir, 'x'), 'version', [], { timeoutMs: 0 }), RangeError);
  });
});

describe('ofprotoTrace', () => {
  test('passes each --ct-next and its state before the bridge and the flow, and parses the answer', async () => {
    const text = readFileSync(join(import.meta.dirname, 'fixtures', 'tunnel-gre.txt'), 'utf8');
    const peer = await fake(() => ({ id: 0, result: text, error: null }));
    const r = await ofprotoTrace(peer.path, 'br0', 'in_port=1,icmp', {
      ctNext: ['trk,est', 'trk,new'],
      timeoutMs: 2000,
    });
    assert.deepEqual(peer.conns[0]!.received[0], {
      id: 0,
      method: 'ofproto/trace',
      params: ['--ct-next', 'trk,est', '--ct-next', 'trk,new', 'br0', 'in_port=1,icmp'],
    });
    assert.equal(r.text, text);
    assert.equal(r.trace.tunnel?.type, 'gre');
    await ofprotoTrace(peer.path, 'br0', 'in_port=1');
    assert.deepEqual(peer.conns[1]!.received[0]!.params, ['br0', 'in_port=1']);
  });

  test('OVS refusing the flow is a UnixctlError rpc with its message', async () => {
    const ovs = 'Bad openflow flow syntax: in_port=2,tp_src=1: prerequisites not met for setting tp_src';
    const peer = await fake(() => ({ id: 0, result: null, error: ovs }));
    await rejectsWith(
      ofprotoTrace(peer.path, 'br0', 'in_port=2,tp_src=1'),
      'rpc',
      /^ofproto\/trace: Bad openflow flow syntax/,
    );
  });
});

describe('findVswitchdControlSocket', () => {
  async function listen(path: string): Promise<void> {
    const s = createServer();
    servers.push(s);
    await new Promise<void>((r) => s.listen(path, () => r()));
  }

  test('the pid form first, then the plain one; a list of what was tried when neither is there', async () => {
    const run = mkdtempSync(join(dir, 'run-'));
    await rejectsWith(
      findVswitchdControlSocket(run),
      'not-found',
      new RegExp(
        `^no ovs-vswitchd control socket in ${run} \\(tried ${run}/ovs-vswitchd\\.pid: does not exist; ${run}/ovs-vswitchd\\.ctl: does not exist\\)$`,
      ),
    );
    writeFileSync(join(run, 'ovs-vswitchd.pid'), '4242\n');
    writeFileSync(join(run, 'ovs-vswitchd.ctl'), 'a regular file');
    const e = await rejectsWith(
      findVswitchdControlSocket(run),
      'not-found',
      /ovs-vswitchd\.4242\.ctl: does not exist; .*ovs-vswitchd\.ctl: not a socket\)$/,
    );
    assert.equal(e.code, 'UNIXCTL_NOT_FOUND');
    rmSync(join(run, 'ovs-vswitchd.ctl'));
    await listen(join(run, 'ovs-vswitchd.ctl'));
    assert.equal(await findVswitchdControlSocket(run), join(run, 'ovs-vswitchd.ctl'));
    await listen(join(run, 'ovs-vswitchd.4242.ctl'));
    assert.equal(await findVswitchdControlSocket(run), join(run, 'ovs-vswitchd.4242.ctl'));
    writeFileSync(join(run, 'ovs-vswitchd.pid'), 'garbage');
    assert.equal(await findVswitchdControlSocket(run), join(run, 'ovs-vswitchd.ctl'));
  });
});
