// Dialing a switch (connectSwitch) against fault-injecting peers on a Unix socket, as the agent dials a bridge's
// management socket: a peer that hangs up at any step of the handshake is a rejected dial, never an unhandled
// rejection. An EPIPE on a write whose reply was awaited ended the agent's process in the lab twice: once in the
// handshake (not forced here: each step's hang-up is) and once in a request right after it (forced below).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { connectSwitch, decodeMessage, encodeMessage, OpenFlowLibError } from '../../src/openflow/index.js';

const dir = mkdtempSync(join(tmpdir(), 'vnet-ofc-'));
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => void unhandled.push(e);
process.on('unhandledRejection', onUnhandled);
after(() => {
  process.off('unhandledRejection', onUnhandled);
  rmSync(dir, { recursive: true, force: true });
});

/** A switch that answers the handshake up to `until` (a message type it hangs up on instead of answering). */
async function peer(name: string, until: string | null): Promise<{ path: string; server: Server }> {
  const path = join(dir, `${name}.mgmt`);
  const server = createServer((s: Socket) => {
    s.on('error', () => {});
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 8 && buf.length >= buf.readUInt16BE(2)) {
        const frame = buf.subarray(0, buf.readUInt16BE(2));
        buf = buf.subarray(frame.length);
        const m = decodeMessage(frame);
        if (m.type === until) {
          s.destroy();
          return;
        }
        // A bare HELLO of OpenFlow 1.5 (no bitmap), as OVS sends for a bridge with every version enabled.
        if (m.type === 'hello') s.write(Buffer.from([6, 0, 0, 8, 0, 0, 0, 1]));
        if (m.type === 'barrier_request') {
          s.write(encodeMessage({ type: 'barrier_reply', xid: m.xid ?? 0 }));
          // 'after-handshake': hang up right behind the handshake's last reply, as vswitchd re-creating its
          // mgmt service (the bridge's protocols changed) closes a session the agent is about to use.
          if (until === 'after-handshake') s.destroy();
        }
        if (m.type === 'features_request')
          s.write(
            encodeMessage({
              type: 'features_reply',
              xid: m.xid ?? 0,
              datapathId: 1n,
              nBuffers: 0,
              nTables: 254,
              auxiliaryId: 0,
              capabilities: 0,
            }),
          );
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  return { path, server };
}

for (const until of ['hello', 'features_request', 'set_config', 'barrier_request']) {
  test(`a switch hanging up on our ${until} rejects the dial; nothing is left unhandled`, async () => {
    const { path, server } = await peer(until, until);
    try {
      await assert.rejects(connectSwitch(`unix:${path}`, { handshakeTimeoutMs: 5000 }), OpenFlowLibError);
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(unhandled, []);
    } finally {
      server.close();
    }
  });
}

test('a switch offering 1.0–1.5 by a bare HELLO (no version bitmap) is spoken to in 1.3', async () => {
  const { path, server } = await peer('bare', null);
  try {
    const conn = await connectSwitch(`unix:${path}`, { handshakeTimeoutMs: 5000 });
    assert.equal(conn.dpid, 1n);
    conn.close('done');
  } finally {
    server.close();
  }
});

test('requests on a session whose switch just hung up reject; nothing is left unhandled', async () => {
  const { path, server } = await peer('gone', 'after-handshake');
  try {
    const conn = await connectSwitch(`unix:${path}`, { handshakeTimeoutMs: 5000 });
    const calls = [conn.dumpFlows(), conn.barrier(), conn.dumpFlows()];
    for (const c of calls) await assert.rejects(c, OpenFlowLibError);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(unhandled, []);
  } finally {
    server.close();
  }
});

test('a socket that is not there (the bridge not created yet) rejects the dial', async () => {
  await assert.rejects(connectSwitch(`unix:${join(dir, 'missing.mgmt')}`), /cannot connect/);
});
