// OpenFlow over TLS against a real ovs-vswitchd: the agent's OVSDB side sets the switch's SSL files (OVS's SSL
// table, as `ovs-vsctl set-ssl`) and an `ssl:` controller target; the agent's listener takes the switch only
// when its certificate chains to the configured CA, and refuses another with a clear log line.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import type { SwitchLink } from '../../../src/agent/runtime/deps.js';
import { OpenFlowListener } from '../../../src/agent/runtime/openflow-link.js';
import { OvsdbBridgeControl } from '../../../src/agent/runtime/ovsdb-bridge.js';
import { parseAgentOptions } from '../../../src/agent/runtime/options.js';
import { takeOverBridge } from '../../../src/agent/runtime/bridge-takeover.js';
import { type OvsInstance, startOvs } from '../../../src/lab/ovs-instance.js';
import { type PemPair, selfSignedPair } from '../../lib/tls-pairs.js';
import { waitFor } from '../../lib/wait-for.js';

const dir = mkdtempSync(join(tmpdir(), `vnet-oftls-${process.pid}-`));
const lines: Record<string, unknown>[] = [];
const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
const pairs: Record<string, PemPair> = {};
let ovs: OvsInstance;
let bridge: OvsdbBridgeControl;
let listener: OpenFlowListener;
const links: SwitchLink[] = [];

before(async () => {
  for (const n of ['agent', 'switch', 'stranger']) pairs[n] = await selfSignedPair(dir, n);
  ovs = await startOvs({ dir: `/tmp/vnet-oftls-${process.pid}`, dummy: true });
  await ovs.vsctl('add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev');
  listener = await OpenFlowListener.listen({ host: '127.0.0.1', port: 0 }, log, {
    tls: { key: pairs.agent!.key, cert: pairs.agent!.cert, ca: pairs.switch!.cert },
  });
  listener.onSwitch((l) => links.push(l));
  bridge = new OvsdbBridgeControl(`unix:${ovs.dbSock}`, log);
});
after(async () => {
  for (const l of links) l.close();
  await listener?.close();
  await bridge?.close();
  await ovs?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const target = () => `ssl:127.0.0.1:${listener.address.port}`;
const switchSsl = (certName: string) => ({
  privateKey: pairs[certName]!.keyFile,
  certificate: pairs[certName]!.certFile,
  caCert: pairs.agent!.certFile,
});

test('ovs-vswitchd connects over TLS with the SSL files the agent set, and is taken', async () => {
  const dpid = await takeOverBridge(bridge, 'br0', target(), switchSsl('switch'));
  assert.match(await ovs.vsctl('get-ssl'), new RegExp(`Private key: ${pairs.switch!.keyFile}`));
  await waitFor(
    () => links.length > 0,
    () => `the switch over TLS: ${JSON.stringify(lines.slice(-5))}`,
    { timeoutMs: 20_000 },
  );
  assert.equal(links[0]!.dpid, dpid);
  assert.equal(await links[0]!.isAlive(5000), true);
  // Flows go over the TLS session and are on the switch.
  await links[0]!.sendFlowMods(
    [{ command: 'add', flow: { table: 0, priority: 7, match: {}, cookie: 0x77n, instructions: [] } }],
    { bundle: false },
  );
  assert.match(await ovs.ofctl('dump-flows', 'br0'), /cookie=0x77.*priority=7/);
  // ovs-vswitchd says so too (it refreshes the column every few seconds).
  await waitFor(async () => /true/.test(await ovs.vsctl('get', 'controller', 'br0', 'is_connected')), 'is_connected', {
    timeoutMs: 20_000,
  });
});

test('a switch whose certificate the CA did not sign is refused before any OpenFlow, with a clear log line', async () => {
  for (const l of links.splice(0)) l.close();
  await takeOverBridge(bridge, 'br0', target(), switchSsl('stranger'));
  await waitFor(
    () => lines.some((l) => String(l.msg).startsWith("refused a switch's TLS connection")),
    () => `a refusal in the log: ${JSON.stringify(lines.slice(-5))}`,
    { timeoutMs: 20_000 },
  );
  const refusal = lines.find((l) => String(l.msg).startsWith("refused a switch's TLS connection"))!;
  assert.match(String(refusal.msg), /not signed by the --openflow-ca/);
  assert.equal(refusal.reason, 'DEPTH_ZERO_SELF_SIGNED_CERT', 'OpenSSL says why');
  assert.match(String(refusal.remote), /^127\.0\.0\.1:\d+$/, 'and which connection');
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(links.length, 0, 'never handed to the agent');
});

test('the agent takes --listen ssl: only with its key, certificate and CA, and names what is missing', () => {
  const base = { listen: 'ssl:127.0.0.1:6653', nodeId: 'n1' };
  assert.throws(() => parseAgentOptions(base), /openflow-key: needed with --listen ssl:/);
  const ours = { openflowKey: pairs.agent!.keyFile, openflowCert: pairs.agent!.certFile };
  const cfg = parseAgentOptions({ ...base, ...ours, openflowCa: pairs.switch!.certFile });
  assert.deepEqual(cfg.listen, { host: '127.0.0.1', port: 6653 });
  assert.equal(cfg.openflowTls?.ca, pairs.switch!.cert);
  assert.equal(cfg.switchSsl, null);
  assert.equal(cfg.switchSocket, null, 'a TLS switch dials the agent: no management socket');
  assert.throws(
    () => parseAgentOptions({ ...base, ...ours, openflowCa: pairs.switch!.certFile, switchSocket: 'unix:/x.mgmt' }),
    /switch-socket: an ssl: --listen address is dialed by the switch/,
  );
  assert.throws(
    () => parseAgentOptions({ ...base, ...ours, openflowCa: pairs.switch!.certFile, switchKey: 'k' }),
    /switch-cert: the switch-key, switch-cert and switch-ca go together/,
  );
  assert.throws(
    () => parseAgentOptions({ ...base, ...ours, openflowCa: pairs.switch!.keyFile }),
    /openflow-ca: .* holds no PEM certificate/,
  );
  assert.throws(
    () => parseAgentOptions({ listen: '127.0.0.1:6653', openflowKey: 'k' }),
    /openflow-key: only an ssl: --listen address takes keys/,
  );
  assert.equal(parseAgentOptions({ listen: 'tcp:127.0.0.1:6653' }).openflowTls, null);
});
