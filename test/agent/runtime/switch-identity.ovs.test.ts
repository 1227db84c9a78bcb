// The agent's OpenFlow listener takes only ovs-vswitchd for the switch: a local process that connects and
// claims a dpid (here a fake switch in this very process) is refused and named in the log; a real bridge
// pointed at the listener is taken.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { OpenFlowListener } from '../../../src/agent/runtime/openflow-link.js';
import { identifyPeer } from '../../../src/agent/runtime/switch-identity.js';
import type { SwitchLink } from '../../../src/agent/runtime/deps.js';
import { type OvsInstance, startOvs } from '../../../src/lab/ovs-instance.js';
import { FakeSwitch } from '../../openflow/fake-switch.js';
import { waitFor } from '../../lib/wait-for.js';

const lines: Record<string, unknown>[] = [];
const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
let listener: OpenFlowListener;
let ovs: OvsInstance | undefined;
const links: SwitchLink[] = [];

before(async () => {
  listener = await OpenFlowListener.listen({ host: '127.0.0.1', port: 0 }, log);
  listener.onSwitch((l) => links.push(l));
});
after(async () => {
  await listener.close();
  await ovs?.stop();
});

test('a process that is not ovs-vswitchd is refused, whatever dpid it claims', async () => {
  const fake = await FakeSwitch.open({ port: listener.address.port, dpid: 0xabcn });
  await waitFor(() => fake.closed, 'the impostor to be disconnected', { timeoutMs: 10_000 });
  assert.equal(links.length, 0, 'never handed to the agent');
  const refusal = lines.find((l) => l.msg === 'refused an OpenFlow connection: the peer is not ovs-vswitchd');
  assert.ok(refusal, JSON.stringify(lines));
  assert.equal(refusal.pid, process.pid, 'the log names the process');
  assert.equal(refusal.exe, process.execPath);
  // And the identification itself, for a connection of ours to a port nobody owns: not a local socket.
  const v = await identifyPeer({ address: '127.0.0.1', port: 1 }, { address: '127.0.0.1', port: 2 });
  assert.equal(v.kind, 'unknown');
});

test('a real bridge (ovs-vswitchd) is taken', async () => {
  ovs = await startOvs({ dir: `/tmp/vnet-swid-${process.pid}`, dummy: true });
  await ovs.vsctl(
    'add-br',
    'br0',
    '--',
    'set',
    'bridge',
    'br0',
    'other_config:datapath-id=00000000000000cd',
    'protocols=OpenFlow13',
    'datapath_type=netdev',
  );
  await ovs.vsctl('set-controller', 'br0', `tcp:127.0.0.1:${listener.address.port}`);
  await waitFor(
    () => links.length > 0,
    () => `the bridge to be taken: ${JSON.stringify(lines.slice(-5))}`,
    { timeoutMs: 15_000 },
  );
  assert.equal(links[0]!.dpid, 0xcdn);
  assert.equal(await links[0]!.isAlive(2000), true);
});
