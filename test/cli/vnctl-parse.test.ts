// Unit tests of vnctl's parser: OpenVNet's command forms become the right API requests.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../../src/cli/vnctl/errors.js';
import { type ApiRequest, type Invocation, parseArgs, parseBoolean } from '../../src/cli/vnctl/parse.js';
import { findResource, normalizeName } from '../../src/cli/vnctl/spec.js';
import { RESOURCES } from '../../src/cli/vnctl/table.js';

/** The requests of a call, or a failure naming what came back instead. */
function requests(argv: string[]): readonly ApiRequest[] {
  const inv = parseArgs(argv);
  assert.equal(inv.kind, 'call', `expected a call for ${argv.join(' ')}`);
  return (inv as Extract<Invocation, { kind: 'call' }>).requests;
}
const one = (line: string) => {
  const r = requests(line.split(' '));
  assert.equal(r.length, 1);
  return r[0]!;
};
const usage = (argv: string[], pattern: RegExp) =>
  assert.throws(
    () => parseArgs(argv),
    (e: unknown) => e instanceof UsageError && e.code === 'VNCTL_USAGE' && e.exitCode === 2 && pattern.test(e.message),
  );

describe('seed lines', () => {
  test('datapath add with mixed --opt value and --opt=value', () => {
    const r = one(
      'datapath add --uuid dp-br0 --display-name=br0 --dc-segment-id=seg1 --dpid=0x000002fdee8e0a44 --ipv4-address=192.168.122.207 --node-id=192.168.122.207',
    );
    assert.deepEqual(r, {
      method: 'POST',
      path: '/datapaths',
      query: {},
      body: {
        uuid: 'dp-br0',
        display_name: 'br0',
        dc_segment_id: 'seg1',
        dpid: '0x000002fdee8e0a44',
        ipv4_address: '192.168.122.207',
        node_id: '192.168.122.207',
      },
    });
  });

  test('network add sends the prefix as an integer', () => {
    const r = one(
      'network add --uuid nw-net1 --display-name=net1 --ipv4-network 172.16.1.0 --ipv4-prefix=24 --domain-name=dom1 --network-mode=virtual',
    );
    assert.equal(r.method, 'POST');
    assert.equal(r.path, '/networks');
    assert.deepEqual(r.body, {
      uuid: 'nw-net1',
      display_name: 'net1',
      ipv4_network: '172.16.1.0',
      ipv4_prefix: 24,
      domain_name: 'dom1',
      network_mode: 'virtual',
    });
  });

  test('datapath networks add DP NW puts both uuids in the path', () => {
    const r = one('datapath networks add dp-br0 nw-net1 --broadcast-mac-address=08:00:27:10:03:01');
    assert.deepEqual(r, {
      method: 'POST',
      path: '/datapaths/dp-br0/networks/nw-net1',
      query: {},
      body: { broadcast_mac_address: '08:00:27:10:03:01' },
    });
  });

  test('network_service add (singular, underscore) and network-services (plural, dash) are the same', () => {
    const a = one('network_service add --uuid=ns-vnet1gw --interface-uuid=if-vnet1gw --display-name=router');
    const b = one('network-services add --uuid ns-vnet1gw --interface_uuid if-vnet1gw --display_name router');
    assert.deepEqual(a, b);
    assert.equal(a.path, '/network_services');
    assert.deepEqual(a.body, { uuid: 'ns-vnet1gw', interface_uuid: 'if-vnet1gw', display_name: 'router' });
  });

  test('interfaces add keeps MAC case and every option', () => {
    const r = one(
      'interfaces add --uuid if-inst1 --mode vif --owner-datapath-uuid dp-test1 --mac-address EE:99:D5:67:FD:52 --network-uuid nw-test1 --ipv4-address 10.0.0.1 --port-name tap1',
    );
    assert.deepEqual(r.body, {
      uuid: 'if-inst1',
      mode: 'vif',
      owner_datapath_uuid: 'dp-test1',
      mac_address: 'EE:99:D5:67:FD:52',
      network_uuid: 'nw-test1',
      ipv4_address: '10.0.0.1',
      port_name: 'tap1',
    });
  });
});

describe('verbs', () => {
  test('show without uuid lists, with --limit/--offset as query parameters', () => {
    const r = one('datapaths show --limit 5 --offset=10');
    assert.deepEqual(r, { method: 'GET', path: '/datapaths', query: { limit: '5', offset: '10' } });
  });

  test('show takes the list filters the server declares, and forwards others', () => {
    assert.deepEqual(one('interfaces show --owner-datapath-uuid dp-1 --mode vif'), {
      method: 'GET',
      path: '/interfaces',
      query: { owner_datapath_uuid: 'dp-1', mode: 'vif' },
    });
    assert.deepEqual(one('interfaces show --colour red').query, { colour: 'red' });
  });

  test('show with uuids gets each one', () => {
    const inv = parseArgs(['networks', 'show', 'nw-a', 'nw-b']);
    assert.equal(inv.kind, 'call');
    if (inv.kind !== 'call') return;
    assert.equal(inv.shape, 'objects');
    assert.deepEqual(
      inv.requests.map((r) => `${r.method} ${r.path}`),
      ['GET /networks/nw-a', 'GET /networks/nw-b'],
    );
    assert.equal((parseArgs(['networks', 'show', 'nw-a']) as { shape: string }).shape, 'body');
  });

  test('del accepts several uuids and combines the deleted lists', () => {
    const inv = parseArgs(['interface', 'del', 'if-a', 'if-b', 'if-c']);
    assert.equal(inv.kind, 'call');
    if (inv.kind !== 'call') return;
    assert.equal(inv.shape, 'deleted');
    assert.deepEqual(
      inv.requests.map((r) => `${r.method} ${r.path}`),
      ['DELETE /interfaces/if-a', 'DELETE /interfaces/if-b', 'DELETE /interfaces/if-c'],
    );
  });

  test('modify PUTs the options to the one uuid', () => {
    const r = one('networks modify nw-1 --display-name x --mtu 1450 --dns-servers 8.8.8.8,1.1.1.1');
    assert.deepEqual(r, {
      method: 'PUT',
      path: '/networks/nw-1',
      query: {},
      body: { display_name: 'x', mtu: 1450, dns_servers: '8.8.8.8,1.1.1.1' },
    });
  });

  test('list options: --host-route DEST,NEXTHOP repeats, --host-routes takes JSON or "" (clears)', () => {
    const r = one('networks modify nw-1 --host-route 10.9.0.0/16,10.0.0.1 --host_route=192.0.2.0/24,10.0.0.2');
    assert.deepEqual(r.body, {
      host_routes: [
        { destination: '10.9.0.0/16', nexthop: '10.0.0.1' },
        { destination: '192.0.2.0/24', nexthop: '10.0.0.2' },
      ],
    });
    assert.deepEqual(
      one(`networks modify nw-1 --host-routes [{"destination":"10.9.0.0/16","nexthop":"10.0.0.1"}]`).body,
      {
        host_routes: [{ destination: '10.9.0.0/16', nexthop: '10.0.0.1' }],
      },
    );
    assert.deepEqual(one('networks modify nw-1 --host-routes=').body, { host_routes: [] });
    assert.throws(
      () => one('networks modify nw-1 --host-route 10.9.0.0/16'),
      /--host-route: expected DESTINATION,NEXTHOP/,
    );
    assert.throws(() => one('networks modify nw-1 --host-routes 10.9.0.0/16'), /--host-routes: expected a JSON list/);
  });

  test('verb synonyms', () => {
    assert.equal(one('networks list').method, 'GET');
    assert.equal(one('networks delete nw-1').method, 'DELETE');
    assert.equal(one('networks update nw-1 --display-name a').method, 'PUT');
    assert.equal(one('networks create --ipv4-network 10.0.0.0').method, 'POST');
  });

  test('uuids are path-encoded', () => {
    assert.equal(one('networks show a/b?c').path, '/networks/a%2Fb%3Fc');
  });

  test('ip_leases attach and release', () => {
    assert.deepEqual(one('ip_leases attach il-1 --interface-uuid if-1'), {
      method: 'PUT',
      path: '/ip_leases/il-1/attach',
      query: {},
      body: { interface_uuid: 'if-1' },
    });
    assert.deepEqual(one('ip-lease release il-1'), {
      method: 'PUT',
      path: '/ip_leases/il-1/release',
      query: {},
      body: {},
    });
  });
});

describe('relations', () => {
  test('show DP lists the relation; show DP NW gets one row', () => {
    assert.deepEqual(one('datapaths networks show dp-1'), {
      method: 'GET',
      path: '/datapaths/dp-1/networks',
      query: {},
    });
    assert.equal(one('datapaths networks show dp-1 nw-1').path, '/datapaths/dp-1/networks/nw-1');
  });

  test('del DP NW… deletes each', () => {
    assert.deepEqual(
      requests(['datapaths', 'route_links', 'del', 'dp-1', 'rl-1', 'rl-2']).map((r) => `${r.method} ${r.path}`),
      ['DELETE /datapaths/dp-1/route_links/rl-1', 'DELETE /datapaths/dp-1/route_links/rl-2'],
    );
  });

  test('interfaces ports add/del address the rows by parameters', () => {
    assert.deepEqual(one('interfaces ports add if-1 --datapath-uuid dp-1 --port-name tap1 --singular'), {
      method: 'POST',
      path: '/interfaces/if-1/ports',
      query: {},
      body: { datapath_uuid: 'dp-1', port_name: 'tap1', singular: true },
    });
    assert.deepEqual(one('interfaces ports del if-1 --port-name tap1'), {
      method: 'DELETE',
      path: '/interfaces/if-1/ports',
      query: { port_name: 'tap1' },
    });
  });

  test('interfaces security_groups add IF SG is a PUT of the membership', () => {
    assert.deepEqual(one('interfaces security-groups add if-1 sg-1'), {
      method: 'PUT',
      path: '/interfaces/if-1/security_groups/sg-1',
      query: {},
      body: {},
    });
    assert.equal(one('interface security_group del if-1 sg-1').method, 'DELETE');
    assert.equal(one('interfaces security_groups show if-1').path, '/interfaces/if-1/security_groups');
    usage(['interfaces', 'security_groups', 'show', 'if-1', 'sg-1'], /unexpected argument 'sg-1'/);
  });

  test('security_groups rules add SG creates under the group; del SG SGR', () => {
    assert.deepEqual(
      one('security_groups rules add sg-1 --direction ingress --protocol tcp --port-range-min 22 --port-range-max 22'),
      {
        method: 'POST',
        path: '/security_groups/sg-1/rules',
        query: {},
        body: { direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22 },
      },
    );
    assert.equal(one('security_groups rules del sg-1 sgr-1').path, '/security_groups/sg-1/rules/sgr-1');
  });

  test('filters static add/del, translations static_address, range groups, dns records', () => {
    assert.deepEqual(
      one('filters static add fil-1 --protocol tcp --action pass --dst-port 80 --src-address 10.0.0.0/8'),
      {
        method: 'POST',
        path: '/filters/fil-1/static',
        query: {},
        body: { protocol: 'tcp', action: 'pass', dst_port: 80, src_address: '10.0.0.0/8' },
      },
    );
    assert.deepEqual(one('filters static del fil-1 --protocol tcp --action pass --dst-port 80'), {
      method: 'DELETE',
      path: '/filters/fil-1/static',
      query: { protocol: 'tcp', action: 'pass', dst_port: '80' },
    });
    assert.equal(
      one('translations static_address add tr-1 --ingress-ipv4-address 10.0.0.1 --egress-ipv4-address 1.2.3.4').path,
      '/translations/tr-1/static_address',
    );
    assert.equal(
      one('ip_range_groups ip_ranges add iprg-1 --begin-ipv4-address 10.0.0.10 --end-ipv4-address 10.0.0.20').path,
      '/ip_range_groups/iprg-1/ip_ranges',
    );
    assert.equal(one('mac_range_groups mac_ranges del mrg-1 mr-1').path, '/mac_range_groups/mrg-1/mac_ranges/mr-1');
    assert.equal(
      one('dns_services dns_records add dnss-1 --name www --ipv4-address 10.0.0.5').path,
      '/dns_services/dnss-1/dns_records',
    );
  });
});

describe('options', () => {
  test('booleans: bare, true/false word, =value', () => {
    assert.deepEqual(one('interfaces add --enable-routing').body, { enable_routing: true });
    assert.deepEqual(one('interfaces add --enable-routing true --mode simulated').body, {
      enable_routing: true,
      mode: 'simulated',
    });
    assert.deepEqual(one('interfaces add --enable-routing false').body, { enable_routing: false });
    assert.deepEqual(one('interfaces add --enable_routing=FALSE').body, { enable_routing: false });
    assert.deepEqual(one('interfaces add --enable-routing --enable-filtering').body, {
      enable_routing: true,
      enable_filtering: true,
    });
    usage(['interfaces', 'add', '--enable-routing=maybe'], /--enable-routing: expected true or false, got "maybe"/);
  });

  test('a boolean before a positional does not eat it', () => {
    assert.deepEqual(one('interfaces ports add --singular if-1').path, '/interfaces/if-1/ports');
  });

  test('integers are checked and named', () => {
    usage(['networks', 'add', '--ipv4-prefix', 'abc'], /--ipv4-prefix: expected an integer, got "abc"/);
    usage(['networks', 'add', '--ipv4-prefix=99999999999999999999'], /--ipv4-prefix: integer out of range/);
  });

  test('a string option needs a value, and a value cannot be the next option', () => {
    usage(['networks', 'add', '--display-name'], /--display-name needs a value/);
    usage(['networks', 'add', '--display-name', '--ipv4-network', '10.0.0.0'], /--display-name needs a value/);
    assert.deepEqual(one('networks add --display-name= --ipv4-network 10.0.0.0').body, {
      display_name: '',
      ipv4_network: '10.0.0.0',
    });
  });

  test('an empty value clears: sent as an empty string, which the API reads as null', () => {
    assert.deepEqual(one('networks modify nw-1 --mtu= --dns-servers=').body, { mtu: '', dns_servers: '' });
  });

  test('a value may contain = and spaces', () => {
    const r = parseArgs(['networks', 'add', '--display-name=a=b c']);
    assert.equal(r.kind, 'call');
    if (r.kind === 'call') assert.deepEqual(r.requests[0]!.body, { display_name: 'a=b c' });
  });

  test('undeclared options are forwarded so the server can name them', () => {
    assert.deepEqual(one('networks add --ipv4-network 10.0.0.0 --colour blue --shiny').body, {
      ipv4_network: '10.0.0.0',
      colour: 'blue',
      shiny: true,
    });
  });

  test('the last of a repeated option wins', () => {
    assert.deepEqual(one('networks add --display-name a --display-name b').body, { display_name: 'b' });
  });

  test('global options anywhere', () => {
    const inv = parseArgs(['--api', 'http://h:1', 'networks', 'show', '-o', 'yaml', '--timeout=5']);
    assert.equal(inv.kind, 'call');
    assert.deepEqual(inv.globals, { api: 'http://h:1', output: 'yaml', timeoutSeconds: 5 });
    assert.equal(parseArgs(['networks', 'show', '--output=yml']).globals.output, 'yaml');
    usage(['networks', 'show', '--output', 'xml'], /--output: expected table, yaml or json, got "xml"/);
    usage(['networks', 'show', '--timeout', '0'], /--timeout/);
  });

  test('-- ends options', () => {
    assert.equal(one('networks show -- --odd').path, '/networks/--odd');
  });

  test('parseBoolean', () => {
    assert.equal(parseBoolean('TRUE'), true);
    assert.equal(parseBoolean('no'), false);
    assert.equal(parseBoolean('nw-1'), undefined);
  });
});

describe('usage errors name the problem', () => {
  test('unknown resource, verb, relation verb', () => {
    usage(['frobs', 'add'], /unknown resource 'frobs'/);
    usage(['networks', 'frob'], /unknown verb or relation 'frob' for networks/);
    usage(['datapaths', 'networks', 'frob'], /unknown verb 'frob' for datapaths networks/);
    usage(['datapaths', 'networks', 'attach', 'dp-1'], /unknown verb 'attach' for datapaths networks/);
    usage(
      ['interfaces', 'ports', 'modify', 'if-1', 'x'],
      /interfaces ports has no 'modify' \(it has: add\|show\|del\)/,
    );
  });

  test('missing verb and missing uuids', () => {
    usage(['networks'], /missing verb/);
    usage(['datapaths', 'networks'], /missing verb/);
    usage(['networks', 'modify'], /missing the network uuid to modify/);
    usage(['networks', 'del'], /missing the network uuid\(s\) to delete/);
    usage(['datapaths', 'networks', 'add', 'dp-1'], /missing the NW uuid/);
    usage(['datapaths', 'networks', 'add'], /missing the datapath uuid/);
    usage(['ip_leases', 'release'], /missing the ip_lease uuid/);
  });

  test('dot segments are not uuids (they would address another endpoint)', () => {
    usage(['networks', 'show', '..'], /'\.\.' is not a uuid/);
    usage(['datapaths', 'networks', 'del', 'dp-1', '.'], /'\.' is not a uuid/);
  });

  test('extra arguments', () => {
    usage(['networks', 'add', 'nw-1'], /unexpected argument 'nw-1'/);
    usage(['networks', 'modify', 'nw-1', 'nw-2'], /unexpected argument 'nw-2'/);
    usage(['interfaces', 'ports', 'add', 'if-1', 'x'], /unexpected argument 'x'/);
  });

  test('options before the command words', () => {
    usage(['networks', '--display-name', 'x', 'add'], /given before the command is complete/);
  });

  test('bad option spellings', () => {
    usage(['networks', 'add', '-x'], /unknown option '-x'/);
    usage(['networks', 'add', '--=1'], /bad option name/);
    usage(['networks', 'add', '--a.b'], /bad option name/);
  });
});

describe('help and version', () => {
  test('--help anywhere, help as a word, and a topic', () => {
    for (const argv of [
      ['--help'],
      ['-h'],
      ['help'],
      ['datapaths', '--help'],
      ['help', 'datapath'],
      ['datapaths', 'networks', '-h'],
    ]) {
      const inv = parseArgs(argv);
      assert.equal(inv.kind, 'help', argv.join(' '));
      if (inv.kind === 'help') assert.equal(inv.requested, true);
    }
    const inv = parseArgs(['datapath', 'networks', 'add', '--help']);
    assert.equal(inv.kind === 'help' && inv.topic.relation?.name, 'networks');
  });

  test('help still works on a line with bad options', () => {
    assert.equal(parseArgs(['datapaths', '--dpid', 'x', '--help']).kind, 'help');
  });

  test('no arguments is help that was not asked for', () => {
    const inv = parseArgs([]);
    assert.equal(inv.kind === 'help' && inv.requested, false);
  });

  test('--version', () => {
    assert.equal(parseArgs(['--version']).kind, 'version');
  });
});

describe('the command table', () => {
  test('names are unique, snake_case, and every singular resolves', () => {
    const names = new Set<string>();
    for (const r of RESOURCES) {
      for (const n of [r.name, r.singular]) {
        assert.match(n, /^[a-z][a-z0-9_]*$/);
        assert.ok(!names.has(n), `duplicate name ${n}`);
        names.add(n);
      }
      assert.equal(findResource(RESOURCES, r.singular.replaceAll('_', '-')), r);
      const optionSets = [r.add, r.modify, ...r.actions.map((a) => a.options)];
      for (const rel of r.relations) {
        optionSets.push(rel.add?.options ?? [], rel.del?.options ?? [], rel.modify?.options ?? []);
        assert.ok(rel.add || rel.show || rel.del || rel.modify, `${r.name} ${rel.name} has no verb`);
      }
      for (const set of optionSets) {
        const seen = new Set<string>();
        for (const o of set) {
          assert.match(o.name, /^[a-z][a-z0-9_]*$/, `${r.name}: option ${o.name}`);
          assert.ok(!seen.has(o.name), `${r.name}: option ${o.name} declared twice`);
          seen.add(o.name);
        }
      }
    }
  });

  test('modify never offers the uuid and never marks an option required', () => {
    for (const r of RESOURCES) {
      assert.ok(!r.modify.some((o) => o.name === 'uuid'), r.name);
      assert.ok(!r.modify.some((o) => o.required), r.name);
    }
  });

  test('normalizeName', () => {
    assert.equal(normalizeName('Network-Services'), 'network_services');
  });
});

describe('trace', () => {
  test('vnctl trace IF --dst … is POST /traces; --flows only changes the printing', () => {
    assert.deepEqual(one('trace if-veth1 --dst 172.16.2.3 --proto tcp --dport 22'), {
      method: 'POST',
      path: '/traces',
      query: {},
      body: { interface_uuid: 'if-veth1', dst: '172.16.2.3', proto: 'tcp', dport: 22 },
    });
    const inv = parseArgs(['trace', 'if-veth1', '--dst', '172.16.2.3', '--flows']);
    assert.equal(inv.kind, 'call');
    const call = inv as Extract<Invocation, { kind: 'call' }>;
    assert.equal(call.shape, 'trace_flows');
    assert.deepEqual(call.requests[0]!.body, { interface_uuid: 'if-veth1', dst: '172.16.2.3' });
  });
  test("the source may be the VM's MAC or address instead of its interface", () => {
    assert.deepEqual(one('trace 52:54:00:0d:84:01 --dst 172.16.2.3').body, {
      src_mac: '52:54:00:0d:84:01',
      dst: '172.16.2.3',
    });
    assert.deepEqual(one('trace 172.16.1.1 --dst 172.16.2.3').body, { src_ip: '172.16.1.1', dst: '172.16.2.3' });
  });
  test('usage errors name what is missing', () => {
    usage(['trace', '--dst', '1.2.3.4'], /missing where the packet comes from/);
    usage(['trace', 'if-a', 'if-b', '--dst', '1.2.3.4'], /unexpected argument 'if-b'/);
    usage(['trace', 'if-a', '--dport', 'x'], /--dport: expected an integer/);
  });
  test('vnctl trace --help', () => {
    const inv = parseArgs(['trace', '--help']);
    assert.equal(inv.kind, 'help');
    assert.deepEqual((inv as Extract<Invocation, { kind: 'help' }>).topic, { trace: true });
  });
});

describe("OpenVNet's Ruby vnctl spellings (Thor)", () => {
  test('--no-X is X false for a boolean option', () => {
    assert.deepEqual(one('interfaces modify if-a --no-enable-filtering').body, { enable_filtering: false });
    assert.deepEqual(one('filters modify fil-a --no-ingress-passthrough').body, { ingress_passthrough: false });
  });

  test('a list-only relation takes the uuid without `show` (ip_lease_containers ip_leases ILC)', () => {
    assert.deepEqual(one('ip_lease_containers ip_leases ilc-a'), one('ip_lease_containers ip_leases show ilc-a'));
    assert.equal(
      one('ip_retention_containers ip_retentions irc-a').path,
      '/ip_retention_containers/irc-a/ip_retentions',
    );
  });

  test('interfaces networks|segments|route_links modify IF OTHER --static B is a PUT on the association', () => {
    assert.deepEqual(one('interfaces networks modify if-a nw-b --static false'), {
      method: 'PUT',
      path: '/interfaces/if-a/networks/nw-b',
      query: {},
      body: { static: false },
    });
    assert.equal(
      one('interfaces route_links modify if-a rl-b --static true').path,
      '/interfaces/if-a/route_links/rl-b',
    );
  });
});
