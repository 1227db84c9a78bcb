// The agent's DHCP service reads the agent's model (ModelView indices), not copies of its lists: it answers as
// DhcpModel over the same resources does, and follows feed changes applied to the model.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyChange, buildModelView, type FeedResources } from '../../../src/agent/pipeline/model-view.js';
import { DhcpService, modelDhcpView } from '../../../src/agent/runtime/dhcp-service.js';
import { DhcpModel, type DhcpResources, dhcpContext } from '../../../src/dhcp/index.js';
import { clientFrame, decodeReply } from '../../dhcp/helpers.js';
import { iface, seed, topLevelLeases } from '../../dhcp/seed.js';

const viewOf = (res: DhcpResources) => buildModelView(res as FeedResources, 1);

test('the model view answers every request exactly as DhcpModel over the lists', () => {
  for (const res of [seed(), topLevelLeases()]) {
    const lists = new DhcpModel(res);
    const model = modelDhcpView(viewOf(res));
    for (const nw of ['nw-vnet1', 'nw-vnet2', 'nw-nope'])
      for (const mac of ['52:54:00:00:00:01', '52:54:00:00:00:02', '52:54:00:00:00:09', '52:54:00:aa:bb:cc', 'bad'])
        for (const encapsulation of ['gre', 'vxlan'] as const)
          assert.deepEqual(
            dhcpContext(model, nw, mac, { encapsulation }),
            lists.context(nw, mac, { encapsulation }),
            `${nw} ${mac}`,
          );
  }
});

test('answers follow changes applied to the model (new lease, mtu, deleted dhcp service)', () => {
  const res = seed();
  const view = viewOf(res);
  const dhcp = new DhcpService(() => view);
  const local = { encap: 'gre', underlayMtu: 1500 } as const;
  const ask = () =>
    decodeReply(dhcp.handle(clientFrame({ type: 1, mac: '52:54:00:00:00:01' }), 'nw-vnet1', local).reply);
  assert.equal(ask().dhcp.yiaddr, '10.101.0.10');
  const vm1 = iface('if-vm1', 'vif', '52:54:00:00:00:01', [['nw-vnet1', '10.101.0.11']]);
  applyChange(view, { revision: 2, resource: 'interfaces', uuid: 'if-vm1', op: 'upsert', item: vm1 });
  assert.equal(ask().dhcp.yiaddr, '10.101.0.11');
  applyChange(view, { revision: 3, resource: 'network_services', uuid: 'ns-dhcp1', op: 'delete', item: null });
  const r = dhcp.handle(clientFrame({ type: 1, mac: '52:54:00:00:00:01' }), 'nw-vnet1', local);
  assert.deepEqual([r.event, r.reply], ['ignored', undefined]);
});

test('before the first snapshot nothing is answered', () => {
  const r = new DhcpService(() => null).handle(clientFrame({ type: 1, mac: '52:54:00:00:00:01' }), 'nw-vnet1', {
    encap: 'gre',
    underlayMtu: 1500,
  });
  assert.equal(r.event, 'ignored');
});
