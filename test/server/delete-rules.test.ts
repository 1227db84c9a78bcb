// Every reference's declared delete rule (f.ref(prefix, onDelete) in src/model/resources) holds through the API:
// deleting the referenced object is refused (restrict: 409, the referrer stays), takes the referrer with it
// (cascade) or clears the field (nullify). The cases come from the declarations; only how to make each referrer
// is written here, and a declared reference with no maker fails the test, so a new one cannot go unchecked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DECLARATIONS } from '../../src/model/resources/index.js';
import { call, ok, startServer, type TestServer } from './helpers.js';

/**
 * Makes a referrer whose field names an object; returns the paths of that object and of the referrer, or null when
 * the API refuses to set the field at all (the maker asserts the refusal; there is nothing to delete).
 */
type Maker = (s: TestServer) => Promise<{ target: string; referrer: string } | null>;

const NET = '/api/networks/nw-a';
const IFACE = '/api/interfaces/if-a';
const DP = '/api/datapaths/dp-a';

/** Objects every case may point at: a datapath, a network, an interface in it (with leases), a route link. */
async function base(s: TestServer): Promise<void> {
  await ok(s, 'POST', '/api/datapaths', { uuid: 'dp-a', dpid: '0xa', node_id: 'a' });
  await ok(s, 'POST', '/api/networks', { uuid: 'nw-a', ipv4_network: '10.0.0.0' });
  await ok(s, 'POST', '/api/interfaces', {
    uuid: 'if-a',
    network_uuid: 'nw-a',
    ipv4_address: '10.0.0.2',
    mac_address: '02:00:00:00:00:02',
  });
  await ok(s, 'POST', '/api/route_links', { uuid: 'rl-a' });
}

async function segment(s: TestServer): Promise<string> {
  await ok(s, 'POST', '/api/segments', { uuid: 'seg-x' });
  return '/api/segments/seg-x';
}

async function macLeaseOfA(s: TestServer): Promise<string> {
  const leases = await ok(s, 'GET', '/api/mac_leases', { interface_uuid: 'if-a' });
  return `/api/mac_leases/${leases.items[0].uuid}`;
}

/** Makers by "<kind>.<field>". */
const MAKERS: Record<string, Maker> = {
  'datapath_networks.datapath_uuid': async (s) => {
    await ok(s, 'POST', '/api/datapaths/dp-a/networks/nw-a', {});
    return { target: DP, referrer: '/api/datapaths/dp-a/networks/nw-a' };
  },
  'datapath_networks.network_uuid': async (s) => {
    await ok(s, 'POST', '/api/datapaths/dp-a/networks/nw-a', {});
    return { target: NET, referrer: '/api/datapaths/dp-a/networks/nw-a' };
  },
  'datapath_networks.interface_uuid': async (s) => {
    await ok(s, 'POST', '/api/datapaths/dp-a/networks/nw-a', { interface_uuid: 'if-a' });
    return { target: IFACE, referrer: '/api/datapaths/dp-a/networks/nw-a' };
  },
  'datapath_route_links.datapath_uuid': async (s) => {
    await ok(s, 'POST', '/api/datapaths/dp-a/route_links/rl-a', {});
    return { target: DP, referrer: '/api/datapaths/dp-a/route_links/rl-a' };
  },
  'datapath_route_links.route_link_uuid': async (s) => {
    await ok(s, 'POST', '/api/datapaths/dp-a/route_links/rl-a', {});
    return { target: '/api/route_links/rl-a', referrer: '/api/datapaths/dp-a/route_links/rl-a' };
  },
  'datapath_route_links.interface_uuid': async (s) => {
    await ok(s, 'POST', '/api/datapaths/dp-a/route_links/rl-a', { interface_uuid: 'if-a' });
    return { target: IFACE, referrer: '/api/datapaths/dp-a/route_links/rl-a' };
  },
  'datapath_segments.datapath_uuid': async (s) => {
    await segment(s);
    await ok(s, 'POST', '/api/datapaths/dp-a/segments/seg-x', {});
    return { target: DP, referrer: '/api/datapaths/dp-a/segments/seg-x' };
  },
  'datapath_segments.segment_uuid': async (s) => {
    const seg = await segment(s);
    await ok(s, 'POST', '/api/datapaths/dp-a/segments/seg-x', {});
    return { target: seg, referrer: '/api/datapaths/dp-a/segments/seg-x' };
  },
  'datapath_segments.interface_uuid': async (s) => {
    await segment(s);
    await ok(s, 'POST', '/api/datapaths/dp-a/segments/seg-x', { interface_uuid: 'if-a' });
    return { target: IFACE, referrer: '/api/datapaths/dp-a/segments/seg-x' };
  },
  'datapath_networks.topology_uuid': async (s) => topologyRow(s, 'networks', 'nw-a'),
  'datapath_route_links.topology_uuid': async (s) => topologyRow(s, 'route_links', 'rl-a'),
  'datapath_segments.topology_uuid': async (s) => topologyRow(s, 'segments', await segmentUuid(s)),
  'networks.segment_uuid': async (s) => {
    // Networks on segments are not supported: the field is refused, never stored.
    await segment(s);
    const r = await call(s, 'POST', '/api/networks', { uuid: 'nw-x', ipv4_network: '10.9.0.0', segment_uuid: 'seg-x' });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.field, 'segment_uuid');
    return null;
  },
  'subnets.network_uuid': async (s) => {
    // An OpenVNet network with its address may take the subnet of that address (Neutron's view of it).
    await ok(s, 'POST', '/api/subnets', {
      uuid: 'sn-x',
      network_uuid: 'nw-a',
      ipv4_network: '10.0.0.0',
      ipv4_prefix: 24,
      enable_dhcp: false,
    });
    return { target: NET, referrer: '/api/subnets/sn-x' };
  },
  'floating_ips.network_uuid': async (s) => {
    await ok(s, 'POST', '/api/networks', { uuid: 'nw-e', ipv4_network: '192.168.50.0', external: true });
    await ok(s, 'POST', '/api/floating_ips', { uuid: 'fip-x', network_uuid: 'nw-e', ipv4_address: '192.168.50.5' });
    return { target: '/api/networks/nw-e', referrer: '/api/floating_ips/fip-x' };
  },
  'floating_ips.interface_uuid': async (s) => {
    await ok(s, 'POST', '/api/networks', { uuid: 'nw-e', ipv4_network: '192.168.50.0', external: true });
    await ok(s, 'POST', '/api/floating_ips', {
      uuid: 'fip-x',
      network_uuid: 'nw-e',
      ipv4_address: '192.168.50.5',
      interface_uuid: 'if-a',
    });
    return { target: IFACE, referrer: '/api/floating_ips/fip-x' };
  },
  'interfaces.owner_datapath_uuid': async (s) => {
    await ok(s, 'POST', '/api/interfaces', { uuid: 'if-x', owner_datapath_uuid: 'dp-a' });
    return { target: DP, referrer: '/api/interfaces/if-x' };
  },
  'interfaces.network_uuid': async (s) => {
    await ok(s, 'POST', '/api/interfaces', { uuid: 'if-x', network_uuid: 'nw-a' });
    return { target: NET, referrer: '/api/interfaces/if-x' };
  },
  'interfaces.segment_uuid': async (s) => {
    const seg = await segment(s);
    await ok(s, 'POST', '/api/interfaces', { uuid: 'if-x', segment_uuid: 'seg-x' });
    return { target: seg, referrer: '/api/interfaces/if-x' };
  },
  'interfaces.parent_interface_uuid': async (s) => {
    await ok(s, 'POST', '/api/interfaces', { uuid: 'if-x', parent_interface_uuid: 'if-a', vlan_tag: 10 });
    return { target: IFACE, referrer: '/api/interfaces/if-x' };
  },
  'mac_leases.interface_uuid': async (s) => ({ target: IFACE, referrer: await macLeaseOfA(s) }),
  'mac_leases.segment_uuid': async (s) => {
    const seg = await segment(s);
    await ok(s, 'POST', '/api/interfaces', { uuid: 'if-s', segment_uuid: 'seg-x' });
    await ok(s, 'POST', '/api/mac_leases', {
      uuid: 'ml-x',
      interface_uuid: 'if-s',
      mac_address: '02:00:00:00:00:09',
      segment_uuid: 'seg-x',
    });
    return { target: seg, referrer: '/api/mac_leases/ml-x' };
  },
  'ip_leases.network_uuid': async (s) => {
    await ok(s, 'POST', '/api/ip_leases', { uuid: 'il-x', network_uuid: 'nw-a', ipv4_address: '10.0.0.9' });
    return { target: NET, referrer: '/api/ip_leases/il-x' };
  },
  'ip_leases.mac_lease_uuid': async (s) => {
    const ml = await macLeaseOfA(s);
    await ok(s, 'POST', '/api/ip_leases', {
      uuid: 'il-x',
      network_uuid: 'nw-a',
      ipv4_address: '10.0.0.9',
      mac_lease_uuid: ml.split('/').pop(),
    });
    return { target: ml, referrer: '/api/ip_leases/il-x' };
  },
  'ip_leases.interface_uuid': async (s) => {
    await ok(s, 'POST', '/api/ip_leases', {
      uuid: 'il-x',
      network_uuid: 'nw-a',
      ipv4_address: '10.0.0.9',
      interface_uuid: 'if-a',
    });
    return { target: IFACE, referrer: '/api/ip_leases/il-x' };
  },
  'network_services.interface_uuid': async (s) => {
    await ok(s, 'POST', '/api/network_services', { uuid: 'ns-x', mode: 'dhcp', interface_uuid: 'if-a' });
    return { target: IFACE, referrer: '/api/network_services/ns-x' };
  },
  'dns_services.network_service_uuid': async (s) => {
    await ok(s, 'POST', '/api/network_services', { uuid: 'ns-x', mode: 'dns' });
    await ok(s, 'POST', '/api/dns_services', { uuid: 'dnss-x', network_service_uuid: 'ns-x' });
    return { target: '/api/network_services/ns-x', referrer: '/api/dns_services/dnss-x' };
  },
  'routes.interface_uuid': async (s) => route(s, IFACE),
  'routes.route_link_uuid': async (s) => route(s, '/api/route_links/rl-a'),
  'routes.network_uuid': async (s) => route(s, NET),
  'filters.interface_uuid': async (s) => {
    await ok(s, 'POST', '/api/filters', { uuid: 'fil-x', interface_uuid: 'if-a' });
    return { target: IFACE, referrer: '/api/filters/fil-x' };
  },
  'translations.interface_uuid': async (s) => {
    await ok(s, 'POST', '/api/translations', { uuid: 'tr-x', interface_uuid: 'if-a' });
    return { target: IFACE, referrer: '/api/translations/tr-x' };
  },
};

async function segmentUuid(s: TestServer): Promise<string> {
  return (await segment(s)).split('/').pop()!;
}

/** A row a topology provisioned on dp-a (an underlay listing dp-a with a host interface, and `other`). */
async function topologyRow(s: TestServer, list: string, other: string) {
  await ok(s, 'POST', '/api/interfaces', {
    uuid: 'if-h',
    mode: 'host',
    owner_datapath_uuid: 'dp-a',
    port_name: 'eth0',
  });
  await ok(s, 'POST', '/api/topologies', { uuid: 'topo-u', mode: 'simple_underlay' });
  await ok(s, 'POST', '/api/topologies', { uuid: 'topo-o', mode: 'simple_overlay' });
  await ok(s, 'POST', '/api/topologies/topo-u/datapaths/dp-a', { interface_uuid: 'if-h' });
  await ok(s, 'POST', '/api/topologies/topo-o/underlays/topo-u', {});
  await ok(s, 'POST', `/api/topologies/topo-o/${list}/${other}`, {});
  return { target: '/api/topologies/topo-o', referrer: `/api/datapaths/dp-a/${list}/${other}` };
}

async function route(s: TestServer, target: string) {
  await ok(s, 'POST', '/api/routes', {
    uuid: 'r-x',
    interface_uuid: 'if-a',
    route_link_uuid: 'rl-a',
    network_uuid: 'nw-a',
    ipv4_network: '10.0.0.0',
  });
  return { target, referrer: '/api/routes/r-x' };
}

const CASES = Object.entries(DECLARATIONS).flatMap(([kind, d]) =>
  Object.entries(d.fields)
    .filter(([, fl]) => fl.ref)
    .map(([field, fl]) => ({ kind, field, rule: fl.ref!.onDelete })),
);

test('every declared reference has a maker here (a new reference must be added)', () => {
  const missing = CASES.map((c) => `${c.kind}.${c.field}`).filter((k) => !MAKERS[k]);
  assert.deepEqual(missing, []);
  assert.ok(CASES.length >= 20, `only ${CASES.length} references declared?`);
});

for (const c of CASES) {
  test(`${c.kind}.${c.field}: deleting what it names ${c.rule === 'restrict' ? 'is refused (409)' : c.rule === 'cascade' ? 'deletes it too' : 'clears it'}`, async () => {
    const maker = MAKERS[`${c.kind}.${c.field}`];
    if (!maker) return; // reported by the test above
    const s = await startServer({ listen: false });
    try {
      await base(s);
      const made = await maker(s);
      if (!made) return;
      const { target, referrer } = made;
      const before = await ok(s, 'GET', referrer);
      assert.ok(before[c.field], `${referrer} does not name its ${c.field}: ${JSON.stringify(before)}`);
      const del = await call(s, 'DELETE', target);
      const after = await call(s, 'GET', referrer);
      if (c.rule === 'restrict') {
        assert.equal(del.status, 409, `DELETE ${target}: ${del.status} ${del.text}`);
        assert.equal(after.status, 200);
      } else {
        assert.equal(del.status, 200, `DELETE ${target}: ${del.status} ${del.text}`);
        if (c.rule === 'cascade') assert.equal(after.status, 404, `${referrer} survived: ${after.text}`);
        else {
          assert.equal(after.status, 200, after.text);
          assert.equal(after.body[c.field], null, `${referrer}.${c.field} not cleared: ${after.text}`);
        }
      }
    } finally {
      await s.close();
    }
  });
}
