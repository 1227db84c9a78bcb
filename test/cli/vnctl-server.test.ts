// vnctl against a real `bin/vnet server` (ephemeral port, temp --db): the seed lines verbatim, the common forms,
// outputs and exit statuses. Spawns the compiled dist/ (built here when src/ is newer).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { runVnctl } from '../../src/cli/vnctl/main.js';
import type { OptionSpec } from '../../src/cli/vnctl/spec.js';
import { LIST_OPTIONS, RESOURCES } from '../../src/cli/vnctl/table.js';
import { ensureBuilt } from '../lib/built.js';
import { freePort } from '../lib/free-port.js';

/** The seed documents' lines, in their order, exactly as written (they target localhost:9090). */
const SEED_LINES = [
  'vnctl datapath add --uuid dp-br0 --display-name=br0 --dc-segment-id=seg1 --dpid=0x000002fdee8e0a44 --ipv4-address=192.168.122.207 --node-id=192.168.122.207',
  'vnctl network add --uuid nw-net1 --display-name=net1 --ipv4-network 172.16.1.0 --ipv4-prefix=24 --domain-name=dom1 --network-mode=virtual',
  'vnctl datapath networks add dp-br0 nw-net1 --broadcast-mac-address=08:00:27:10:03:01',
  'vnctl interface add --uuid=if-veth1 --ipv4-address=172.16.1.1 --network-uuid=nw-net1 --mac-address=52:54:00:0d:84:01',
  'curl -s -X POST --data-urlencode uuid=if-vnet1gw --data-urlencode network_uuid=nw-net1 --data-urlencode mac_address=52:54:00:74:00:00 --data-urlencode ipv4_address=172.16.1.254 --data-urlencode mode=simulated http://localhost:9090/api/interfaces',
  'vnctl network_service add --uuid=ns-vnet1gw --interface-uuid=if-vnet1gw --display-name=router',
  'vnctl route_link add --uuid=rl-vnetlink1 --mac-address=52:54:00:60:11:11',
  'vnctl datapaths add --uuid dp-test1 --display-name test1 --dpid 0x0000aabbccddeeff --node-id vna',
  'vnctl networks add --uuid nw-test1 --display-name test1-net --ipv4-network 10.0.0.0 --ipv4-prefix 24 --network-mode virtual',
  'vnctl interfaces add --uuid if-inst1 --mode vif --owner-datapath-uuid dp-test1 --mac-address EE:99:D5:67:FD:52 --network-uuid nw-test1 --ipv4-address 10.0.0.1 --port-name tap1',
  'curl -s -X POST --data-urlencode route_link_uuid=rl-vnetlink1 --data-urlencode mac_address=08:00:27:20:01:01 http://localhost:9090/api/datapaths/dp-br0/route_links/rl-vnetlink1',
  'curl -s -X POST --data-urlencode uuid=r-vnet1 --data-urlencode interface_uuid=if-vnet1gw --data-urlencode route_link_uuid=rl-vnetlink1 --data-urlencode ipv4_network=172.16.1.0 http://localhost:9090/api/routes',
];

const ROOT = process.cwd();
let dir = '';
let api = '';
let server: ChildProcess | undefined;
let serverLog = '';

/** The environment without any API setting of the developer's shell. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.VNET_API;
  delete env.VNET_WEBAPI;
  return { ...env, ...extra };
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** bin/vnctl as a user runs it: a process of its own (used for the seed lines and the exit statuses). */
function vnctlProcess(args: readonly string[], env: Record<string, string> = { VNET_API: api }): Run {
  const r = spawnSync(join(ROOT, 'bin/vnctl'), args, {
    cwd: ROOT,
    env: cleanEnv(env),
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The same code bin/vnctl runs (runVnctl is all its entry point does), in this process: a node start
 * costs ~0.5-1 s on a loaded 2-core machine, and the breadth below would take minutes as processes.
 */
async function vnctl(args: readonly string[], env: Record<string, string> = { VNET_API: api }): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const status = await runVnctl(args, env, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { status, stdout, stderr };
}
const words = (line: string) => line.split(' ').filter((w) => w !== '');
/** Runs a vnctl line that must succeed and returns its stdout. */
async function ok(line: string | readonly string[]): Promise<string> {
  const args = typeof line === 'string' ? words(line) : line;
  const r = await vnctl(args);
  assert.equal(
    r.status,
    0,
    `vnctl ${args.join(' ')} → ${r.status}\nstderr: ${r.stderr}\nserver log tail: ${serverLog.slice(-2000)}`,
  );
  assert.equal(r.stderr, '');
  return r.stdout;
}
const okJson = async (line: string): Promise<any> => JSON.parse(await ok(`${line} -o json`));
/** Runs a vnctl line that must fail with `status`; returns stderr (checked to be one line). */
async function fails(line: string, status: number, env?: Record<string, string>): Promise<string> {
  const r = await vnctl(words(line), env);
  assert.equal(
    r.status,
    status,
    `vnctl ${line} → ${r.status}, wanted ${status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`,
  );
  assert.match(r.stderr, /^vnctl: [^\n]+\n$/, 'one stderr line');
  return r.stderr;
}

before(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), `vnctl-test-${process.pid}-`));
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  server = spawn(join(ROOT, 'bin/vnet'), ['server', '--listen', `127.0.0.1:${port}`, '--db', join(dir, 'vnet.db')], {
    cwd: ROOT,
    env: cleanEnv({ VNET_LOG_LEVEL: 'warn' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout!.on('data', (c: Buffer) => (serverLog += c.toString()));
  server.stderr!.on('data', (c: Buffer) => (serverLog += c.toString()));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`vnet server exited ${server.exitCode}: ${serverLog}`);
    try {
      const res = await fetch(`${api}/api/1.0/datapaths`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`vnet server did not answer within 20 s: ${serverLog}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

after(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    const timer = setTimeout(() => server!.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the seed lines, verbatim and in order', () => {
  test('every line succeeds', async () => {
    for (const line of SEED_LINES) {
      if (line.startsWith('vnctl ')) {
        const r = vnctlProcess(words(line).slice(1));
        assert.equal(r.status, 0, `${line}\n→ ${r.status}: ${r.stderr}\nserver log tail: ${serverLog.slice(-2000)}`);
        assert.equal(r.stderr, '');
        // Its stdout is a pipe: OpenVNet's YAML, as OpenVNet's vnctl printed it.
        assert.match(r.stdout, /^uuid: \S+$/m, 'prints the created object');
        continue;
      }
      // curl as written, pointed at this test's server; -w adds the status code to check it.
      const args = words(line)
        .slice(1)
        .map((w) => w.replace('http://localhost:9090', api));
      const r = spawnSync('curl', [...args, '-w', '\n%{http_code}'], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, `${line}: curl ${r.status} ${r.stderr}`);
      const code = r.stdout.trimEnd().split('\n').pop();
      assert.match(code ?? '', /^2\d\d$/, `${line}\n→ ${r.stdout}`);
    }
  });

  test('the API holds what they said', async () => {
    const dp = await okJson('datapath show dp-br0');
    assert.equal(dp.display_name, 'br0');
    assert.equal(dp.dpid, '0x000002fdee8e0a44');
    assert.equal(dp.node_id, '192.168.122.207');
    assert.equal(dp.ipv4_address, '192.168.122.207');
    assert.equal(dp.dc_segment_id, 'seg1');

    const nw = await okJson('network show nw-net1');
    assert.equal(nw.ipv4_network, '172.16.1.0');
    assert.equal(nw.ipv4_prefix, 24);
    assert.equal(nw.domain_name, 'dom1');
    assert.equal(nw.network_mode, 'virtual');
    assert.equal(typeof nw.tunnel_key, 'number');

    const dpn = await okJson('datapath networks show dp-br0');
    assert.equal(dpn.total_count, 1);
    assert.equal(dpn.items[0].network_uuid, 'nw-net1');
    assert.equal(dpn.items[0].broadcast_mac_address, '08:00:27:10:03:01');

    const veth = await okJson('interface show if-veth1');
    assert.equal(veth.ipv4_address, '172.16.1.1');
    assert.equal(veth.mac_address, '52:54:00:0d:84:01');
    assert.equal(veth.network_uuid, 'nw-net1');
    assert.equal(veth.mode, 'vif');

    assert.equal((await okJson('interface show if-vnet1gw')).mode, 'simulated');
    const ns = await okJson('network_service show ns-vnet1gw');
    assert.equal(ns.interface_uuid, 'if-vnet1gw');
    assert.equal(ns.display_name, 'router');
    assert.equal((await okJson('route_link show rl-vnetlink1')).mac_address, '52:54:00:60:11:11');

    const inst = await okJson('interfaces show if-inst1');
    assert.equal(inst.owner_datapath_uuid, 'dp-test1');
    assert.equal(inst.port_name, 'tap1');
    assert.equal(inst.mac_address.toLowerCase(), 'ee:99:d5:67:fd:52');
    assert.equal(inst.ipv4_address, '10.0.0.1');

    const drl = await okJson('datapaths route_links show dp-br0 rl-vnetlink1');
    assert.equal(drl.mac_address, '08:00:27:20:01:01');
    const route = await okJson('routes show r-vnet1');
    assert.equal(route.interface_uuid, 'if-vnet1gw');
    assert.equal(route.network_uuid, 'nw-net1', "a route's network defaults to its router interface's");
  });
});

describe('outputs', () => {
  test('a list is a table: header plus one row per item with the key columns', async () => {
    const lines = (await ok('interfaces show')).trimEnd().split('\n');
    assert.match(
      lines[0]!,
      /^UUID\s+MODE\s+MAC_ADDRESS\s+IPV4_ADDRESS\s+NETWORK_UUID\s+OWNER_DATAPATH_UUID\s+PORT_NAME\s+STATUS$/,
    );
    const rows = lines.slice(1);
    assert.deepEqual(rows.map((l) => l.split(/\s+/)[0]).sort(), ['if-inst1', 'if-veth1', 'if-vnet1gw']);
    assert.match(
      rows.find((l) => l.startsWith('if-inst1'))!,
      /^if-inst1\s+vif\s+ee:99:d5:67:fd:52\s+10\.0\.0\.1\s+nw-test1\s+dp-test1\s+tap1\s+(up|down)$/i,
    );
  });

  test('one object is key/value lines', async () => {
    const text = await ok('datapath show dp-test1');
    assert.match(text, /^uuid\s+dp-test1$/m);
    assert.match(text, /^dpid\s+0x0000aabbccddeeff$/m);
    assert.match(text, /^ipv4_address\s+-$/m);
  });

  test('yaml and json are the same API body', async () => {
    const y = parseYaml(await ok('networks show -o yaml'));
    const j = JSON.parse(await ok('networks show --output=json'));
    assert.deepEqual(y, j);
    assert.equal(j.total_count, 2);
    assert.deepEqual(j.items.map((n: { uuid: string }) => n.uuid).sort(), ['nw-net1', 'nw-test1']);
  });

  test('paging with --limit/--offset, and the table says it is a page', async () => {
    const page = await okJson('datapaths show --limit 1 --offset 1');
    assert.equal(page.total_count, 2);
    assert.equal(page.items.length, 1);
    assert.match(await ok('datapaths show --limit 1'), /\(1-1 of 2; use --offset\/--limit\)\n$/);
  });

  test('list filters the server supports', async () => {
    const vifs = await okJson('interfaces show --owner-datapath-uuid dp-test1');
    assert.deepEqual(
      vifs.items.map((i: { uuid: string }) => i.uuid),
      ['if-inst1'],
    );
    const sim = await okJson('interfaces show --mode simulated');
    assert.deepEqual(
      sim.items.map((i: { uuid: string }) => i.uuid),
      ['if-vnet1gw'],
    );
  });

  test('show with several uuids', async () => {
    const both = await okJson('networks show nw-net1 nw-test1');
    assert.deepEqual(
      both.map((n: { uuid: string }) => n.uuid),
      ['nw-net1', 'nw-test1'],
    );
    assert.match(await ok('networks show nw-net1 nw-test1'), /^uuid\s+nw-net1$[\s\S]*\n\nuuid\s+nw-test1$/m);
  });
});

describe('common forms', () => {
  test('modify with --opt value, --opt=value, underscores, booleans', async () => {
    const nw = await okJson('networks modify nw-test1 --display_name=renamed --mtu 1450 --dns-servers 8.8.8.8,1.1.1.1');
    assert.equal(nw.display_name, 'renamed');
    assert.equal(nw.mtu, 1450);
    assert.equal(nw.dns_servers, '8.8.8.8,1.1.1.1');
    const cleared = await okJson('networks modify nw-test1 --mtu= --dns-servers=');
    assert.equal(cleared.mtu, null);
    assert.equal(cleared.dns_servers, null);
    assert.equal((await okJson('interfaces modify if-inst1 --enable-filtering')).enable_filtering, true);
    assert.equal((await okJson('interface modify if-inst1 --enable-filtering false')).enable_filtering, false);
    assert.equal((await okJson('interface modify if-inst1 --enable_filtering=true')).enable_filtering, true);
  });

  test('host routes: --host-route repeated sets the list, a bad next hop is refused naming the entry', async () => {
    const nw = await okJson(
      'networks modify nw-test1 --host-route 10.9.0.0/16,10.0.0.254 --host-route 192.0.2.7,10.0.0.253',
    );
    assert.deepEqual(nw.host_routes, [
      { destination: '10.9.0.0/16', nexthop: '10.0.0.254' },
      { destination: '192.0.2.7/32', nexthop: '10.0.0.253' },
    ]);
    assert.match(
      await fails('networks modify nw-test1 --host-route 10.9.0.0/16,10.1.0.1', 1),
      /host_routes\[0\]\.nexthop: 10\.1\.0\.1 .*not a host address of 10\.0\.0\.0\/24/,
    );
    assert.match(await ok('networks --help'), /--host-route DESTINATION,NEXTHOP/);
    assert.deepEqual((await okJson('networks modify nw-test1 --host-routes=')).host_routes, []);
  });

  test('singular, plural, dashes and underscores name the same resource', async () => {
    for (const name of [
      'network_service',
      'network_services',
      'network-service',
      'network-services',
      'Network-Services',
    ]) {
      assert.equal((await okJson(`${name} show ns-vnet1gw`)).uuid, 'ns-vnet1gw', name);
    }
  });

  test('add without uuid gets a generated one; del several at once', async () => {
    const a = await okJson('networks add --ipv4-network 192.168.10.0 --network-mode virtual');
    const b = await okJson('network add --ipv4-network 192.168.11.0 --ipv4-prefix 25');
    assert.match(a.uuid, /^nw-[a-z0-9]+$/);
    assert.equal(await ok(`networks del ${a.uuid} ${b.uuid}`), `${a.uuid}\n${b.uuid}\n`);
    assert.match(await fails(`networks show ${a.uuid}`, 1), /404/);
  });

  test('security groups: add, rules, membership', async () => {
    await ok('security_groups add --uuid sg-web --display-name web --description http');
    const rule = await okJson(
      'security_group rules add sg-web --direction ingress --protocol tcp --port-range-min 80 --port-range-max 80',
    );
    assert.match(rule.uuid, /^sgr-/);
    assert.equal(rule.port_range_min, 80);
    const rules = await okJson('security_groups rules show sg-web');
    assert.equal(rules.items.length, 1);
    const iface = await okJson('interfaces security_groups add if-inst1 sg-web');
    assert.deepEqual(iface.security_group_uuids, ['sg-web']);
    assert.match(await ok('interfaces security-groups show if-inst1'), /^sg-web\s+web\s+http$/m);
    await ok('interfaces security_groups del if-inst1 sg-web');
    assert.deepEqual((await okJson('interface show if-inst1')).security_group_uuids, []);
    assert.equal(await ok(`security_groups rules del sg-web ${rule.uuid}`), `${rule.uuid}\n`);
    await ok('security_groups del sg-web');
  });

  test('filters static add/show/del by fields', async () => {
    await ok('filters add --uuid fil-inst1 --interface-uuid if-inst1 --mode static --ingress-passthrough');
    await ok('filters static add fil-inst1 --protocol tcp --action pass --dst-port 22 --src-address 10.0.0.0/24');
    const statics = await okJson('filter static show fil-inst1');
    assert.equal(statics.items.length, 1);
    assert.equal(statics.items[0].dst_port, 22);
    await ok('filters static del fil-inst1 --protocol tcp --action pass --dst-port 22 --src-address 10.0.0.0/24');
    assert.equal((await okJson('filter static show fil-inst1')).items.length, 0);
    await ok('filters del fil-inst1');
  });

  test('ip range groups with ranges; ip lease attach and release', async () => {
    await ok('ip_range_groups add --uuid iprg-pool1');
    const range = await okJson(
      'ip_range_groups ip_ranges add iprg-pool1 --begin-ipv4-address 10.0.0.100 --end-ipv4-address 10.0.0.199',
    );
    assert.equal((await okJson('ip-range-group ip-ranges show iprg-pool1')).items.length, 1);
    await ok(`ip_range_groups ip_ranges del iprg-pool1 ${range.uuid}`);

    const lease = await okJson('ip_leases add --network-uuid nw-test1 --ipv4-address 10.0.0.50');
    assert.equal(lease.interface_uuid, null);
    assert.equal((await okJson(`ip_leases attach ${lease.uuid} --interface-uuid if-inst1`)).interface_uuid, 'if-inst1');
    assert.equal((await okJson(`ip_lease release ${lease.uuid}`)).interface_uuid, null);
    await ok(`ip_leases del ${lease.uuid}`);
  });

  test('the remaining relation forms: datapath networks, ports, static addresses, DNS records, MAC ranges, leases', async () => {
    // datapath networks: modify then del (add ran in the seeds)
    await ok('networks add --uuid nw-rel --ipv4-network 10.30.0.0');
    await ok('datapaths networks add dp-test1 nw-rel --mac-address 02:00:00:00:30:01');
    const dpn = await okJson('datapath network modify dp-test1 nw-rel --broadcast-mac-address 02:00:00:00:30:ff');
    assert.equal(dpn.broadcast_mac_address, '02:00:00:00:30:ff');
    assert.equal(await ok('datapaths networks del dp-test1 nw-rel'), 'nw-rel\n');
    assert.equal((await okJson('datapaths networks show dp-test1')).total_count, 0);

    // interface ports: rows keyed by their fields
    await ok('interfaces add --uuid if-port1 --mac-address 02:00:00:00:31:01');
    await ok('interfaces ports add if-port1 --datapath-uuid dp-test1 --port-name tap31');
    const ports = await okJson('interface ports show if-port1');
    assert.equal(ports.items[0].port_name, 'tap31');
    await ok('interfaces ports del if-port1 --datapath-uuid dp-test1 --port-name tap31');
    assert.equal((await okJson('interface ports show if-port1')).items.length, 0);

    // translations static_address
    await ok('translations add --uuid tr-rel --interface-uuid if-vnet1gw --mode static_address');
    await ok(
      'translations static_address add tr-rel --ingress-ipv4-address 172.16.1.10 --egress-ipv4-address 192.0.2.10',
    );
    assert.equal((await okJson('translation static-address show tr-rel')).items[0].egress_ipv4_address, '192.0.2.10');
    await ok(
      'translations static_address del tr-rel --ingress-ipv4-address 172.16.1.10 --egress-ipv4-address 192.0.2.10',
    );
    assert.equal((await okJson('translations static_address show tr-rel')).items.length, 0);

    // DNS service records
    await ok('network_services add --uuid ns-dns --interface-uuid if-vnet1gw --mode dns');
    await ok('dns_services add --uuid dnss-rel --network-service-uuid ns-dns --public-dns 192.0.2.53');
    const rec = await okJson('dns_services dns_records add dnss-rel --name www --ipv4-address 172.16.1.1');
    assert.equal((await okJson('dns_service dns_record show dnss-rel')).items[0].name, 'www');
    assert.equal(await ok(`dns_services dns_records del dnss-rel ${rec.uuid}`), `${rec.uuid}\n`);

    // MAC range groups
    await ok('mac_range_groups add --uuid mrg-rel');
    const mr = await okJson(
      'mac_range_groups mac_ranges add mrg-rel --begin-mac-address 52:56:01:00:00:00 --end-mac-address 52:56:01:00:00:ff',
    );
    assert.equal((await okJson('mac-range-groups mac-ranges show mrg-rel')).items.length, 1);
    await ok(`mac_range_groups mac_ranges del mrg-rel ${mr.uuid}`);

    // MAC leases: add, move, del
    const ml = await okJson('mac_leases add --interface-uuid if-port1 --mac-address 02:00:00:00:31:02');
    assert.equal((await okJson(`mac_lease modify ${ml.uuid} --interface-uuid if-inst1`)).interface_uuid, 'if-inst1');
    await ok(`mac_leases del ${ml.uuid}`);

    // segments
    await ok('segments add --uuid seg-rel --mode virtual');
    assert.equal(await ok('segments del seg-rel'), 'seg-rel\n');
  });

  test('batch from stdin (bin/vnctl as a process): lines in order, stops at the first failure', () => {
    const input = [
      '# create and look',
      'vnctl networks add --uuid nw-batch1 --display-name "batch net" --ipv4-network 10.20.0.0',
      'network show nw-batch1 -o json',
      'networks add --uuid nw-batch1 --ipv4-network 10.21.0.0',
      'networks del nw-batch1',
    ].join('\n');
    const r = spawnSync(join(ROOT, 'bin/vnctl'), ['batch'], {
      cwd: ROOT,
      env: cleanEnv({ VNET_API: api }),
      input,
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /"display_name": "batch net"/);
    assert.match(r.stderr, /^vnctl: <stdin>:4: POST \/api\/1\.0\/networks: 400 DuplicateUUID[^\n]*\n$/);
  });

  test('OpenVNet VNET_WEBAPI=host:port, and --api beating the environment', async () => {
    const hostPort = api.replace('http://', '');
    assert.equal((await vnctl(['datapaths', 'show'], { VNET_WEBAPI: hostPort })).status, 0);
    assert.equal((await vnctl(['datapaths', 'show', '--api', api], { VNET_API: 'http://127.0.0.1:1' })).status, 0);
  });
});

describe('failures exit non-zero with one line naming the problem', () => {
  test('duplicate uuid (API 400) → 1 with the API message', async () => {
    const err = await fails('network add --uuid nw-net1 --ipv4-network 172.16.9.0', 1);
    assert.match(err, /POST \/api\/1\.0\/networks: 400 DuplicateUUID/);
    assert.match(err, /nw-net1/);
  });

  test('unknown option is forwarded and named by the server → 1', async () => {
    assert.match(await fails('networks add --ipv4-network 10.9.0.0 --colour blue', 1), /colour/);
  });

  test('invalid address → 1 naming the field', async () => {
    assert.match(await fails('networks add --ipv4-network 10.0.0.300', 1), /ipv4_network/);
  });

  test('unknown and malformed uuids → 1', async () => {
    assert.match(await fails('datapaths show dp-nope', 1), /404 UnknownUUIDResource/);
    assert.match(await fails('datapaths show nope', 1), /400 InvalidUUID/);
  });

  test('immutable field → 1 saying so', async () => {
    assert.match(await fails('networks modify nw-net1 --tunnel-key 77', 1), /tunnel_key/);
  });

  test('with -o yaml the error body is on stdout too, as OpenVNet printed it', async () => {
    const r = await vnctl(words('network add --uuid nw-net1 --ipv4-network 172.16.9.0 -o yaml'));
    assert.equal(r.status, 1);
    assert.match(String(parseYaml(r.stdout).error), /DuplicateUUID/);
  });

  test('bad usage → 2, nothing sent', async () => {
    assert.match(await fails('networks add --ipv4-prefix twenty', 2), /--ipv4-prefix: expected an integer/);
    assert.match(await fails('frobnicators show', 2), /unknown resource 'frobnicators'/);
    assert.match(await fails('datapaths networks add dp-br0', 2), /missing the NW uuid/);
  });

  test('bin/vnctl as a process: exit 1 on an API error, 2 on bad usage, 3 when unreachable', async () => {
    const apiError = vnctlProcess(words('datapaths show dp-nope'));
    assert.equal(apiError.status, 1);
    assert.match(apiError.stderr, /^vnctl: GET \/api\/1\.0\/datapaths\/dp-nope: 404 [^\n]+\n$/);
    // A pipe gets OpenVNet's YAML, errors included (its scripts grep the body for `error`).
    assert.match(apiError.stdout, /^error: Vnet::Endpoints::Errors::UnknownUUIDResource$/m);
    assert.equal(vnctlProcess(words('datapaths show dp-nope -o table')).stdout, '');
    const usage = vnctlProcess(words('datapaths frob'));
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /^vnctl: unknown verb or relation 'frob' for datapaths[^\n]+\n$/);
    const port = await freePort();
    const down = vnctlProcess(words('datapaths show'), { VNET_API: `http://127.0.0.1:${port}` });
    assert.equal(down.status, 3);
    assert.match(down.stderr, /^vnctl: cannot reach the API at [^\n]+\n$/);
  });

  test("output: a table on a terminal, OpenVNet's YAML on a pipe, vnctl.conf's output_format, --output above all", async () => {
    const conf = join(dir, 'vnctl.conf');
    writeFileSync(
      conf,
      `# as OpenVNet's vnctl reads it\nwebapi_uri '127.0.0.1'\nwebapi_port ${new URL(api).port}\noutput_format 'json'\n`,
    );
    // The file's address and format: no VNET_API given.
    const viaConf = vnctlProcess(words('datapaths show dp-br0'), { VNCTL_CONF: conf });
    assert.equal(viaConf.status, 0, viaConf.stderr);
    assert.equal(JSON.parse(viaConf.stdout).uuid, 'dp-br0');
    assert.match(vnctlProcess(words('datapaths show dp-br0')).stdout, /^uuid: dp-br0$/m);
    assert.match(
      vnctlProcess(words('datapaths show dp-br0 -o table'), { VNCTL_CONF: conf }).stdout,
      /^uuid\s{2,}dp-br0$/m,
    );
    let text = '';
    const run = (isTTY: boolean) =>
      runVnctl(
        ['datapaths', 'show', 'dp-br0'],
        { VNET_API: api },
        { stdout: (s) => (text = s), stderr: () => {}, isTTY },
      );
    await run(true);
    assert.match(text, /^uuid\s{2,}dp-br0$/m);
    await run(false);
    assert.match(text, /^uuid: dp-br0$/m);
    writeFileSync(conf, "output_format 'xml'\n");
    const bad = vnctlProcess(words('datapaths show'), { VNCTL_CONF: conf });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /output_format: expected yml or json, got "xml"/);
  });

  test('several servers (VNET_API=URL1,URL2): a server that cannot be reached is passed over, writes too', async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const env = { VNET_API: `${down},${api}` };
    const shown = await vnctl(words('datapaths show dp-br0 -o json'), env);
    assert.equal(shown.status, 0, shown.stderr);
    assert.equal(JSON.parse(shown.stdout).uuid, 'dp-br0');
    const added = await vnctl(
      words('networks add --uuid nw-two --ipv4-network 10.77.0.0 --ipv4-prefix 24 -o json'),
      env,
    );
    assert.equal(added.status, 0, added.stderr);
    const none = await vnctl(words('datapaths show'), { VNET_API: `${down},${down}` });
    assert.equal(none.status, 3);
    assert.equal((await vnctl(words('datapaths show'), { VNET_API: ' , ' })).status, 2);
  });

  test('API unreachable → 3', async () => {
    const port = await freePort();
    assert.match(await fails('datapaths show', 3, { VNET_API: `http://127.0.0.1:${port}` }), /connection refused/);
  });
});

describe("OpenVNet's tutorial (docs/content/installation.md, creating-virtual-networks), verbatim as a batch", () => {
  const TUTORIAL = String.raw`
vnctl datapaths add --uuid dp-test1 --display-name test1 --dpid 0x0000aaaaaaaaaaaa --node-id vna
vnctl mac_range_groups add --uuid mrg-dpg
vnctl mac_range_groups mac_ranges add mrg-dpg --begin_mac_address 52:56:01:00:00:00 --end_mac_address 52:56:01:ff:ff:ff
vnctl networks add --uuid nw-test1 --display-name testnet1 --ipv4-network 10.100.0.0 --ipv4-prefix 24 --network-mode virtual
vnctl interfaces add --uuid if-inst1 --mode vif --owner-datapath-uuid dp-test1 --mac-address 10:54:ff:00:00:01 \
      --network-uuid nw-test1 --ipv4-address 10.100.0.10 --port-name inst1
vnctl interfaces add --uuid if-dhcp --mode simulated --owner-datapath-uuid dp-test1 --mac-address 02:00:00:00:01:11 \
      --network-uuid nw-test1 --ipv4-address 10.100.0.100
vnctl network-services add --uuid ns-dhcp --interface-uuid if-dhcp --mode dhcp
vnctl interfaces add --uuid if-router1 --network_uuid nw-test1 --mac_address 02:00:00:00:02:01 --ipv4_address 10.100.0.1 \
      --mode simulated --enable_routing true
vnctl route_links add --uuid rl-1 --mac-address 02:00:10:00:00:01
vnctl routes add --uuid r-1 --interface-uuid if-router1 --network-uuid nw-test1 --ipv4-network 10.100.0.0 --route-link-uuid rl-1
vnctl interfaces modify if-inst1 --enable-filtering      # documented, but rejected by NodeApi (see §8)
vnctl filters add --uuid fil-filter1 --interface-uuid if-inst1 --mode static
`;

  test('runs after the seed objects it reuses are deleted', async () => {
    // The tutorial reuses dp-test1, nw-test1 and if-inst1 from the seeds; deleting them is a test of del too.
    assert.equal(await ok('interfaces del if-inst1'), 'if-inst1\n');
    assert.equal(await ok('networks del nw-test1'), 'nw-test1\n');
    assert.equal(await ok('datapaths del dp-test1'), 'dp-test1\n');
    const file = join(dir, 'tutorial.vnctl');
    writeFileSync(file, TUTORIAL);
    const r = await vnctl(['batch', file, '-o', 'json']);
    assert.equal(r.status, 0, `${r.stderr}\nserver log tail: ${serverLog.slice(-2000)}`);
    const inst = await okJson('interfaces show if-inst1');
    assert.equal(inst.enable_filtering, true, 'OpenVNet rejected this modify; vnet applies it');
    assert.equal(inst.ipv4_address, '10.100.0.10');
    assert.equal((await okJson('interface show if-router1')).enable_routing, true);
    assert.equal((await okJson('routes show r-1')).route_link_uuid, 'rl-1');
    assert.equal((await okJson('filters show fil-filter1')).interface_uuid, 'if-inst1');
  });
});

describe("the command table matches the server's OpenAPI", () => {
  /** `METHOD /api/1.0/a/{}/b/{}` → the parameters (name → JSON type) the operation accepts. */
  async function serverOperations(): Promise<Map<string, Map<string, string>>> {
    const doc = (await (await fetch(`${api}/api/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<string, { parameters?: { in: string; name: string; schema?: { type?: string } }[]; requestBody?: any }>
      >;
    };
    const ops = new Map<string, Map<string, string>>();
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const accepted = new Map<string, string>();
        for (const p of op.parameters ?? []) if (p.in === 'query') accepted.set(p.name, p.schema?.type ?? '');
        const props = op.requestBody?.content?.['application/json']?.schema?.properties ?? {};
        for (const [k, v] of Object.entries<{ type?: string }>(props)) accepted.set(k, v.type ?? '');
        ops.set(`${method.toUpperCase()} ${path.replace(/\{[^}]+\}/g, '{}')}`, accepted);
      }
    }
    return ops;
  }

  /** Every call vnctl can make, with the options it declares for it. */
  function vnctlOperations(): [string, readonly OptionSpec[]][] {
    const out: [string, readonly OptionSpec[]][] = [];
    for (const r of RESOURCES) {
      const b = `/api/1.0/${r.name}`;
      out.push([`POST ${b}`, r.add], [`GET ${b}`, [...LIST_OPTIONS, ...r.filters]], [`PUT ${b}/{}`, r.modify]);
      out.push([`DELETE ${b}/{}`, []], [`GET ${b}/{}`, []]);
      for (const a of r.actions) out.push([`${a.method} ${b}/{}/${a.name}`, a.options]);
      for (const rel of r.relations) {
        const rb = `${b}/{}/${rel.name}`;
        if (rel.add) out.push([`${rel.add.method} ${rel.add.target === 'path' ? `${rb}/{}` : rb}`, rel.add.options]);
        if (rel.show) out.push([`GET ${rb}`, LIST_OPTIONS]);
        if (rel.show && rel.item && rel.showItem !== false) out.push([`GET ${rb}/{}`, []]);
        if (rel.modify) out.push([`PUT ${rb}/{}`, rel.modify.options]);
        if (rel.del) out.push([`DELETE ${rel.del.target === 'path' ? `${rb}/{}` : rb}`, rel.del.options]);
      }
    }
    return out;
  }

  test('every vnctl call exists, its options are accepted with the same types, and none is left undeclared', async () => {
    const ops = await serverOperations();
    const problems: string[] = [];
    for (const [op, options] of vnctlOperations()) {
      const accepted = ops.get(op);
      if (!accepted) {
        problems.push(`${op}: no such operation`);
        continue;
      }
      for (const o of options) {
        if (!accepted.has(o.name)) problems.push(`${op}: --${o.name} not accepted`);
        else if (accepted.get(o.name) !== o.type)
          problems.push(`${op}: --${o.name} is ${o.type}, server says ${accepted.get(o.name)}`);
      }
      // Help must show everything the server takes, or users cannot discover it.
      for (const name of accepted.keys())
        if (!options.some((o) => o.name === name))
          problems.push(`${op}: server takes ${name}, vnctl does not declare it`);
    }
    assert.deepEqual(problems, []);
  });
});
