// Issue 23: OpenFlow over TLS in the lab — each host's agent listens with `--listen ssl:127.0.0.1:6633`, sets
// ovs-vswitchd's SSL files (--switch-key/--switch-cert/--switch-ca) and an ssl: controller through OVSDB; the
// switches connect over TLS, flows are installed and VMs on the two hosts ping. A switch presenting a
// certificate the agent's CA did not sign is refused with a clear log line, and taken again once it has the
// right one.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { seedApiCalls } from '../../src/demo/seed.js';
import { type PemPair, selfSignedPair } from '../lib/tls-pairs.js';
import { waitFor } from '../lib/wait-for.js';
import { addSeedVm, assertE2eEnvironment, assertReaches, failureReport, labPrefix } from './helpers.js';

let cluster: Cluster;
const scratch = mkdtempSync(join(tmpdir(), `vnet-oftls-e2e-${process.pid}-`));
const pairs: Record<string, PemPair> = {};

/** The agent's TLS options: its own pair, the switch's CA (the switch's self-signed pair), the switch's files. */
function tlsArgs(switchPair: PemPair): string[] {
  return [
    '--listen',
    'ssl:127.0.0.1:6633',
    '--openflow-key',
    pairs.agent!.keyFile,
    '--openflow-cert',
    pairs.agent!.certFile,
    '--openflow-ca',
    pairs.switch!.certFile,
    '--switch-key',
    switchPair.keyFile,
    '--switch-cert',
    switchPair.certFile,
    '--switch-ca',
    pairs.agent!.certFile,
  ];
}

before(async () => {
  assertE2eEnvironment();
  for (const n of ['agent', 'switch', 'stranger']) pairs[n] = await selfSignedPair(scratch, n);
  cluster = await Cluster.start({ prefix: labPrefix('eoft'), hosts: ['h1', 'h2'], startAgents: false });
  for (const h of ['h1', 'h2']) await cluster.startAgent(h, tlsArgs(pairs.switch!));
  const dps = await cluster.waitDatapaths();
  await cluster.apply(seedApiCalls([...dps.values()].map((d) => ({ uuid: String(d.uuid) }))));
  await addSeedVm(cluster, 'ns1', 'h1');
  await addSeedVm(cluster, 'ns2', 'h2');
});

after(async () => {
  await cluster?.down();
  rmSync(scratch, { recursive: true, force: true });
});

test('switches connect to their agents over TLS (ssl: controllers); flows are installed and VMs ping', async () => {
  try {
    await cluster.waitInSync(30_000);
  } catch (err) {
    assert.fail(`${String(err)}\n${await failureReport(cluster)}`);
  }
  for (const h of ['h1', 'h2']) {
    const host = cluster.lab.host(h);
    assert.match(cluster.agents.get(h)!.logTail(300), /"controller":"ssl:127\.0\.0\.1:6633"/, h);
    assert.match(await host.vsctl('get-ssl'), new RegExp(`Certificate: ${pairs.switch!.certFile}`), h);
    assert.match(await host.vsctl('get', 'controller', host.bridge, 'target'), /ssl:127\.0\.0\.1:6633/, h);
    assert.ok((await host.ofctl('dump-flows', host.bridge)).split('\n').length > 10, `${h}: flows installed`);
  }
  await assertReaches(cluster, 'ns1', '172.16.1.2');
  await assertReaches(cluster, 'ns2', '172.16.1.1');
});

test('a switch with a certificate the CA did not sign is refused with a clear log line; the right one is taken', async () => {
  await cluster.stopAgent('h2');
  await cluster.startAgent('h2', tlsArgs(pairs.stranger!));
  const log = () => cluster.agents.get('h2')!.logTail(60);
  await waitFor(
    () =>
      /refused a switch's TLS connection: its certificate is missing or not signed by the --openflow-ca/.test(log()),
    () => `h2's agent to refuse its switch:\n${log()}`,
    { timeoutMs: 30_000, everyMs: 200 },
  );
  assert.match(log(), /DEPTH_ZERO_SELF_SIGNED_CERT/);
  assert.doesNotMatch(log(), /switch connected/);
  await cluster.stopAgent('h2');
  await cluster.startAgent('h2', tlsArgs(pairs.switch!));
  try {
    await cluster.waitInSync(30_000);
  } catch (err) {
    assert.fail(`${String(err)}\n${await failureReport(cluster)}`);
  }
  await assertReaches(cluster, 'ns1', '172.16.1.2');
});
