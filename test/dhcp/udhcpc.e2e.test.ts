// A real busybox udhcpc against DhcpResponder, frames carried over a veth by a python3 AF_PACKET bridge (no OVS involved).
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { type DhcpContext, type DhcpEvent, DhcpResponder } from '../../src/dhcp/index.js';
import { fromHex, toHex } from '../../src/packet/index.js';
import { waitFor } from '../lib/wait-for.js';
import { context, SERVER_MAC } from './helpers.js';

// Names carry the pid so parallel runs and leftovers never collide; the veth is created with
// prefixed names and renamed only inside our own namespaces.
const pexec = promisify(execFile);
const tag = `vd${process.pid % 100000}`;
const NS_CLIENT = `${tag}c`;
const NS_SERVER = `${tag}s`;
const dir = mkdtempSync(join(tmpdir(), `vnet-udhcpc-${process.pid}-`));

const BRIDGE = `
import socket, sys, select
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((sys.argv[1], 0))
print("ready", flush=True)
while True:
    r, _, _ = select.select([s, sys.stdin], [], [])
    if s in r:
        data, addr = s.recvfrom(65535)
        if addr[2] != socket.PACKET_OUTGOING:
            sys.stdout.write(data.hex() + "\\n"); sys.stdout.flush()
    if sys.stdin in r:
        line = sys.stdin.readline()
        if not line:
            break
        s.send(bytes.fromhex(line.strip()))
`;

// The client's script records what udhcpc learned and writes nothing else (the default script
// would rewrite the machine's /etc/resolv.conf).
// On bound/renew it configures the address and a static neighbour for the server (the switch
// answers ARP in the product; here nobody does), so a unicast RENEW/RELEASE can leave the kernel.
const SCRIPT = `#!/bin/sh
env | grep -E '^(ip|subnet|mask|router|dns|domain|mtu|staticroutes|lease|serverid|broadcast)=' | sort > "${dir}/env.$1.tmp"
mv "${dir}/env.$1.tmp" "${dir}/env.$1"
case "$1" in
  bound|renew)
    ip addr replace "$ip/$mask" dev "$interface"
    ip neigh replace "$serverid" lladdr ${SERVER_MAC} dev "$interface" ;;
esac
`;

function sh(cmd: string[]): string {
  return execFileSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

let bridge: ChildProcessWithoutNullStreams | undefined;
const responder = new DhcpResponder();
let ctx: DhcpContext = context();
const events: DhcpEvent[] = [];
/** Every result with its reason, printed when an assertion fails. */
const log: string[] = [];

function parseEnv(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** Runs udhcpc asynchronously: the event loop must stay free to answer through the bridge. */
async function udhcpc(mac: string, extra: string[] = []): Promise<{ code: number; out: string }> {
  sh(['ip', 'netns', 'exec', NS_CLIENT, 'ip', 'link', 'set', 'eth0', 'down']);
  sh(['ip', 'netns', 'exec', NS_CLIENT, 'ip', 'link', 'set', 'eth0', 'address', mac]);
  sh(['ip', 'netns', 'exec', NS_CLIENT, 'ip', 'addr', 'flush', 'dev', 'eth0']);
  sh(['ip', 'netns', 'exec', NS_CLIENT, 'ip', 'link', 'set', 'eth0', 'up']);
  const args = [
    'netns',
    'exec',
    NS_CLIENT,
    'busybox',
    'udhcpc',
    '-i',
    'eth0',
    '-s',
    join(dir, 'script.sh'),
    '-f',
    '-q',
    '-n',
    '-t',
    '3',
    '-T',
    '1',
    ...extra,
  ];
  try {
    const { stdout, stderr } = await pexec('ip', args, { timeout: 20_000 });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stderr?: string; stdout?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

describe('busybox udhcpc against the responder', () => {
  before(async () => {
    writeFileSync(join(dir, 'script.sh'), SCRIPT);
    chmodSync(join(dir, 'script.sh'), 0o755);
    sh(['ip', 'netns', 'add', NS_CLIENT]);
    sh(['ip', 'netns', 'add', NS_SERVER]);
    sh(['ip', 'link', 'add', `${tag}a`, 'type', 'veth', 'peer', 'name', `${tag}b`]);
    sh(['ip', 'link', 'set', `${tag}a`, 'netns', NS_SERVER]);
    sh(['ip', 'link', 'set', `${tag}b`, 'netns', NS_CLIENT]);
    sh(['ip', 'netns', 'exec', NS_SERVER, 'ip', 'link', 'set', `${tag}a`, 'name', 'eth0']);
    sh(['ip', 'netns', 'exec', NS_CLIENT, 'ip', 'link', 'set', `${tag}b`, 'name', 'eth0']);
    sh(['ip', 'netns', 'exec', NS_SERVER, 'ip', 'link', 'set', 'eth0', 'address', SERVER_MAC]);
    sh(['ip', 'netns', 'exec', NS_SERVER, 'ip', 'link', 'set', 'eth0', 'up']);
    sh(['ip', 'netns', 'exec', NS_CLIENT, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
    const b = spawn('ip', ['netns', 'exec', NS_SERVER, 'python3', '-u', '-c', BRIDGE, 'eth0']);
    bridge = b;
    b.stderr.on('data', (d) => process.stderr.write(`bridge: ${d}`));
    const lines = createInterface({ input: b.stdout });
    await new Promise<void>((resolve, reject) => {
      b.once('exit', (c) => reject(new Error(`bridge exited ${c}`)));
      lines.on('line', (line) => {
        if (line === 'ready') return resolve();
        const res = responder.handle(fromHex(line), ctx);
        events.push(res.event);
        log.push(`${res.event}${res.reason ? `: ${res.reason}` : ''}`);
        if (res.reply) b.stdin.write(`${toHex(res.reply)}\n`);
      });
    });
  });

  after(() => {
    bridge?.kill();
    for (const ns of [NS_CLIENT, NS_SERVER]) {
      try {
        sh(['ip', 'netns', 'del', ns]);
      } catch {}
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('a VM with a lease gets address, mask, router, DNS, domain, MTU 1450 and routes', async () => {
    const mac = '52:54:00:12:34:56';
    ctx = context({ client: { interfaceUuid: 'if-vm1', macAddress: mac, ipv4Address: '10.0.0.20' } });
    const r = await udhcpc(mac);
    assert.equal(r.code, 0, r.out);
    assert.ok(existsSync(join(dir, 'env.bound')), r.out);
    const env = parseEnv(join(dir, 'env.bound'));
    assert.deepEqual(env, {
      broadcast: '10.0.0.255',
      dns: '8.8.8.8 1.1.1.1',
      domain: 'vnet1.example',
      ip: '10.0.0.20',
      lease: '86400',
      mask: '24',
      mtu: '1450',
      router: '10.0.0.1',
      serverid: '10.0.0.2',
      staticroutes: '10.102.0.0/24 10.0.0.1 0.0.0.0/0 10.0.0.1',
      subnet: '255.255.255.0',
    });
    assert.deepEqual(
      events.filter((e) => e !== 'ignored'),
      ['offer', 'ack'],
    );
  });

  test('GRE encapsulation hands out 1458', async () => {
    const mac = '52:54:00:12:34:57';
    rmSync(join(dir, 'env.bound'), { force: true });
    ctx = context({
      encapsulation: 'gre',
      client: { interfaceUuid: 'if-vm2', macAddress: mac, ipv4Address: '10.0.0.21' },
    });
    const r = await udhcpc(mac);
    assert.equal(r.code, 0, r.out);
    const env = parseEnv(join(dir, 'env.bound'));
    assert.equal(env.ip, '10.0.0.21');
    assert.equal(env.mtu, '1458');
  });

  test('SIGUSR1 renews by unicast (ACKed), SIGTERM with -R releases', async () => {
    const mac = '52:54:00:12:34:58';
    ctx = context({ client: { interfaceUuid: 'if-vm3', macAddress: mac, ipv4Address: '10.0.0.22' } });
    for (const f of ['env.bound', 'env.renew']) rmSync(join(dir, f), { force: true });
    events.length = 0;
    // First run -q to set the MAC and get a lease quickly, then a long-running client that renews.
    assert.equal((await udhcpc(mac)).code, 0);
    rmSync(join(dir, 'env.bound'));
    const pidFile = join(dir, 'udhcpc.pid');
    const client = spawn('ip', [
      'netns',
      'exec',
      NS_CLIENT,
      'busybox',
      'udhcpc',
      '-i',
      'eth0',
      '-s',
      join(dir, 'script.sh'),
      '-f',
      '-R',
      '-t',
      '3',
      '-T',
      '1',
      '-p',
      pidFile,
    ]);
    let out = '';
    client.stdout.on('data', (d) => (out += d));
    client.stderr.on('data', (d) => (out += d));
    const said = (what: string) => () => `${what}; udhcpc said: ${out}; responder: ${JSON.stringify(log)}`;
    try {
      await waitFor(() => existsSync(pidFile) && existsSync(join(dir, 'env.bound')), said('bound'));
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      events.length = 0;
      process.kill(pid, 'SIGUSR1');
      await waitFor(() => existsSync(join(dir, 'env.renew')), said('renewed'));
      assert.equal(parseEnv(join(dir, 'env.renew')).ip, '10.0.0.22');
      assert.ok(events.includes('ack'), JSON.stringify(events));
      process.kill(pid, 'SIGTERM');
      await waitFor(() => events.includes('release'), said('release seen'));
    } finally {
      client.kill();
    }
  });

  test('a VM without a lease gets no offer and udhcpc gives up', async () => {
    const mac = '52:54:00:12:34:59';
    rmSync(join(dir, 'env.bound'), { force: true });
    ctx = context({ client: { interfaceUuid: 'if-vm4', macAddress: mac, ipv4Address: null } });
    events.length = 0;
    const before = responder.counters.offer;
    const r = await udhcpc(mac);
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, /no lease/);
    assert.equal(responder.counters.offer, before);
    assert.ok(!existsSync(join(dir, 'env.bound')));
    assert.ok(events.length >= 3 && events.every((e) => e === 'ignored'), JSON.stringify(events));
  });
});
