// OVSDB over SSL against a real ovsdb-server (`--remote=pssl:`): our client presents its certificate and
// verifies the server's against its CA, as ovs-vsctl's --private-key/--certificate/--ca-cert do; a server
// signed by another CA is refused. (Whether ovsdb-server refuses a client certificate its CA did not sign is
// ovsdb-server's business; here, with self-signed certificates, it answered one — not relied on.)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type OvsInstance, startOvs } from '../../src/lab/ovs-instance.js';
import { OvsdbClient } from '../../src/ovsdb/index.js';
import { parseAgentOptions } from '../../src/agent/runtime/options.js';
import { freePort } from '../lib/free-port.js';
import { type PemPair, selfSignedPair } from '../lib/tls-pairs.js';

const dir = mkdtempSync(join(tmpdir(), `vnet-ovsdb-ssl-${process.pid}-`));
let ovs: OvsInstance;
let port = 0;
const pems: Record<string, PemPair> = {};

before(async () => {
  for (const n of ['server', 'agent', 'stranger']) pems[n] = await selfSignedPair(dir, n);
  port = await freePort();
  ovs = await startOvs({
    dir: `/tmp/vnet-ovsdbssl-${process.pid}`,
    dummy: true,
    ovsdbSsl: { port, key: join(dir, 'server.key'), cert: join(dir, 'server.crt'), ca: join(dir, 'agent.crt') },
  });
});
after(async () => {
  await ovs?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the client speaks OVSDB over SSL with its certificate, verifying the server by its CA', async () => {
  const c = await OvsdbClient.connect(`ssl:127.0.0.1:${port}`, {
    tls: { key: pems.agent!.key, cert: pems.agent!.cert, ca: pems.server!.cert },
    timeoutMs: 10_000,
  });
  try {
    assert.ok((await c.listDbs()).includes('Open_vSwitch'));
  } finally {
    c.close();
  }
});

test('a server whose certificate another CA signed is refused', async () => {
  for (const [what, tls] of [
    ['untrusted server', { key: pems.agent!.key, cert: pems.agent!.cert, ca: pems.stranger!.cert }],
  ] as const) {
    await assert.rejects(
      OvsdbClient.connect(`ssl:127.0.0.1:${port}`, { tls, timeoutMs: 2000, reconnect: false }),
      what,
    );
  }
});

test('the agent takes an ssl: remote only with its key, certificate and CA, and names what is missing', () => {
  const base = { ovsdb: `ssl:127.0.0.1:${port}`, nodeId: 'n1' };
  assert.throws(() => parseAgentOptions(base), /ovsdb-key: needed with the ssl: remote/);
  const cfg = parseAgentOptions({
    ...base,
    ovsdbKey: join(dir, 'agent.key'),
    ovsdbCert: join(dir, 'agent.crt'),
    ovsdbCa: join(dir, 'server.crt'),
  });
  assert.equal(cfg.ovsdbTls?.ca, pems.server!.cert);
  assert.throws(
    () =>
      parseAgentOptions({
        ...base,
        ovsdbKey: join(dir, 'agent.crt'),
        ovsdbCert: join(dir, 'agent.crt'),
        ovsdbCa: join(dir, 'server.crt'),
      }),
    /ovsdb-key: .* holds no PEM private key/,
  );
  assert.throws(() => parseAgentOptions({ ovsdb: 'unix:/x', ovsdbKey: 'k' }), /only an ssl: --ovsdb remote/);
});
