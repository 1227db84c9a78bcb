// Issue 23 "Done when": TLS end to end in the lab — the server on every address of its host with tokens and a
// self-signed certificate; two agents enroll over https, verifying that certificate (--ca-file); VMs on the
// two hosts ping each other. An agent given another certificate to trust is refused, and says why.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { seedApiCalls } from '../../src/demo/seed.js';
import { tlsIdentity } from '../../src/server/tls.js';
import { waitFor } from '../lib/wait-for.js';
import { addSeedVm, assertE2eEnvironment, assertReaches, failureReport, labPrefix } from './helpers.js';

let cluster: Cluster;
const scratch = mkdtempSync(join(tmpdir(), `vnet-tls-e2e-${process.pid}-`));

before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('etls'), hosts: ['h1', 'h2'], tls: true });
  const dps = await cluster.waitDatapaths();
  await cluster.apply(seedApiCalls([...dps.values()].map((d) => ({ uuid: String(d.uuid) }))));
  await addSeedVm(cluster, 'ns1', 'h1');
  await addSeedVm(cluster, 'ns2', 'h2');
});

after(async () => {
  await cluster?.down();
  rmSync(scratch, { recursive: true, force: true });
});

test('agents on two hosts follow the server over https with a verified certificate; VMs across them ping', async () => {
  assert.match(cluster.api, /^https:/);
  assert.match(cluster.labApi, /^https:\/\/\d+\.\d+\.\d+\.\d+:9090$/);
  try {
    await cluster.waitInSync(20_000);
  } catch (err) {
    assert.fail(`${String(err)}\n${await failureReport(cluster)}`);
  }
  for (const h of ['h1', 'h2'])
    assert.match(cluster.agents.get(h)!.logTail(200), /enrolled: agent token kept in the token file/, h);
  await assertReaches(cluster, 'ns1', '172.16.1.2');
  await assertReaches(cluster, 'ns2', '172.16.1.1');
});

test('an agent that trusts another certificate is refused with a clear error, and recovers with the right one', async () => {
  const wrong = await tlsIdentity({ dir: scratch, listenHost: '127.0.0.1', names: [] });
  await cluster.stopAgent('h2');
  await cluster.startAgent('h2', ['--ca-file', wrong.certFile]);
  const log = () => cluster.agents.get('h2')!.logTail(40);
  await waitFor(
    () => /TLS: the server certificate .*give the server's CA certificate with --ca-file/.test(log()),
    () => `h2's agent to say why it cannot reach the server:\n${log()}`,
    { timeoutMs: 15_000, everyMs: 200 },
  );
  await cluster.stopAgent('h2');
  await cluster.startAgent('h2');
  try {
    await cluster.waitInSync(20_000);
  } catch (err) {
    assert.fail(`${String(err)}\n${await failureReport(cluster)}`);
  }
  await assertReaches(cluster, 'ns1', '172.16.1.2');
});
