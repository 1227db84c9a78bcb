#!/usr/bin/env node
// Tempest (Debian `tempest` 33) as the Neutron API's acceptance test: starts a vnet server with --neutron-listen
// and the minimal Keystone (users admin, demo, demo2; demo and demo2 members of their own projects), makes an
// external network with a subnet (public_network_id), writes a Tempest workspace (tempest.conf + accounts.yaml,
// api_extensions = exactly what GET /v2.0/extensions advertises), patches out Debian's sleep(10) per subnet delete
// (sitecustomize.py), runs the network API modules below with --concurrency 1 and prints run/pass/skip/fail.
//   node scripts/tempest.mjs [--vnet CMD] [--json FILE] [--keep] [--regex RE]
//   --vnet   how to start vnet (default: node bin/vnet, i.e. the build in dist/; `npm run build` first)
//   --json   also write the counts and each test's result there
//   --keep   keep the workspace and the server's log (printed at the end)
// Exit status: 0 when Tempest ran (whatever failed), 2 when it could not run (missing tempest, server start).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
/** The modules run: Neutron's core resources, security groups, routers and floating IPs, and their negatives. */
export const MODULES = [
  'test_versions',
  'test_extensions',
  'test_networks',
  'test_networks_negative',
  'test_ports',
  'test_security_groups',
  'test_security_groups_negative',
  'test_routers',
  'test_routers_negative',
  'test_floating_ips',
  'test_floating_ips_negative',
];

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const keep = args.includes('--keep');
const jsonOut = opt('--json');
const regex = opt('--regex') ?? `^tempest\\.api\\.network\\.(${MODULES.join('|')})\\.`;
const vnetCmd = (opt('--vnet') ?? `${process.execPath} ${join(root, 'bin', 'vnet')}`).split(' ');

function die(msg) {
  process.stderr.write(`tempest.mjs: ${msg}\n`);
  process.exit(2);
}

if (spawnSync('tempest', ['--version'], { stdio: 'ignore' }).error)
  die('tempest is not installed (Debian: apt-get install tempest neutron-tempest-plugin; `make test-tools`)');

const started = Date.now();
const dir = mkdtempSync(join(tmpdir(), 'vnet-tempest-'));
const ws = join(dir, 'ws');
const password = randomBytes(12).toString('base64url');
const users = ['admin', 'demo', 'demo2'];
writeFileSync(
  join(dir, 'users.yaml'),
  users
    .map(
      (u) => `- {name: ${u}, password: ${password}, project: ${u}, roles: [${u === 'admin' ? 'admin' : 'member'}]}\n`,
    )
    .join(''),
  { mode: 0o600 },
);

// The server: tokens required even on loopback, so every request Tempest makes is checked as a remote one would be.
const logFile = join(dir, 'server.log');
const server = spawn(
  vnetCmd[0],
  [
    ...vnetCmd.slice(1),
    'server',
    '--listen',
    '127.0.0.1:0',
    '--db',
    join(dir, 'vnet.db'),
    '--require-auth',
    '--admin-token-file',
    join(dir, 'admin.token'),
    '--neutron-listen',
    '127.0.0.1:0',
    '--keystone-users',
    join(dir, 'users.yaml'),
  ],
  { cwd: root, stdio: ['ignore', 'pipe', openSync(logFile, 'a')] },
);
const stopServer = () => {
  if (server.exitCode === null) server.kill('SIGTERM');
};
process.on('exit', stopServer);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

const neutron = await new Promise((resolve) => {
  let out = '';
  const timer = setTimeout(() => resolve(null), 30_000);
  server.stdout.on('data', (b) => {
    out += b;
    const m = /neutron API on (http:\/\/\S+)/.exec(out);
    if (m) {
      clearTimeout(timer);
      resolve(m[1]);
    }
  });
  server.on('exit', () => resolve(null));
});
if (!neutron) die(`the vnet server did not start (log: ${logFile}):\n${readFileSync(logFile, 'utf8').slice(-2000)}`);

async function request(method, path, body, token) {
  const r = await fetch(neutron + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { 'x-auth-token': token } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  if (r.status >= 300) die(`${method} ${path}: ${r.status} ${text}`);
  return { headers: r.headers, body: text ? JSON.parse(text) : null };
}

// The admin's token, as Tempest gets its own; the external network it allocates floating IPs from.
const login = await request('POST', '/identity/v3/auth/tokens', {
  auth: {
    identity: { methods: ['password'], password: { user: { name: 'admin', password, domain: { name: 'Default' } } } },
    scope: { project: { name: 'admin', domain: { name: 'Default' } } },
  },
});
const admin = login.headers.get('x-subject-token');
const ext = await request('POST', '/v2.0/networks', { network: { name: 'public', 'router:external': true } }, admin);
const publicId = ext.body.network.id;
await request(
  'POST',
  '/v2.0/subnets',
  { subnet: { network_id: publicId, name: 'public-subnet', ip_version: 4, cidr: '172.24.4.0/24' } },
  admin,
);
const extensions = (await request('GET', '/v2.0/extensions', null, admin)).body.extensions.map((e) => e.alias);

// The workspace.
// Registered in a workspace file of its own: ~/.tempest/workspace.yaml is the user's.
const init = spawnSync(
  'tempest',
  ['init', '--name', basename(dir), '--workspace-path', join(dir, 'workspaces.yaml'), ws],
  { cwd: dir, encoding: 'utf8' },
);
if (init.status !== 0) die(`tempest init failed: ${init.stdout}${init.stderr}`);
const accounts = join(ws, 'etc', 'accounts.yaml');
writeFileSync(
  accounts,
  [
    `- {username: demo, project_name: demo, password: ${password}, domain_name: Default, roles: [member]}`,
    `- {username: demo2, project_name: demo2, password: ${password}, domain_name: Default, roles: [member]}`,
    `- {username: admin, project_name: admin, password: ${password}, domain_name: Default, types: [admin]}`,
    '',
  ].join('\n'),
);
writeFileSync(
  join(ws, 'etc', 'tempest.conf'),
  `[DEFAULT]
log_file = tempest.log
[auth]
use_dynamic_credentials = false
test_accounts_file = ${accounts}
default_credentials_domain_name = Default
create_isolated_networks = false
[identity]
uri_v3 = ${neutron}/identity/v3
auth_version = v3
region = RegionOne
[identity-feature-enabled]
api_v2 = false
[service_available]
neutron = true
nova = false
glance = false
cinder = false
swift = false
[network]
project_network_cidr = 10.100.0.0/16
; /23, not Tempest's default /28: its canned host route's next hop (10.100.1.1, 10.100.1.2 after the update) must be
; in the subnet, which vnet checks (a VM cannot install a route through an off-link router) and Neutron does not.
; With /23 the first subnet, 10.100.0.0/23, holds them; see docs/neutron.md.
project_network_mask_bits = 23
public_network_id = ${publicId}
floating_network_name = public
; a resource left behind (a failed delete) fails its test in seconds, not Tempest's default 300
build_timeout = 20
build_interval = 1
[network-feature-enabled]
api_extensions = ${extensions.join(',')}
ipv6 = false
`,
);
// Debian's tempest sleeps 10 s in every subnet delete (add-delay-in-subnet-teardown.patch): patched out.
const site = join(dir, 'site');
mkdirSync(site);
writeFileSync(
  join(site, 'sitecustomize.py'),
  `try:
    from tempest.lib.services.network import subnets_client as _sc
    _sc.SubnetsClient.delete_subnet = lambda self, sid: self.delete_resource('/subnets/%s' % sid)
except Exception:
    pass
`,
);

const setupS = (Date.now() - started) / 1000;
const run = spawnSync('tempest', ['run', '--concurrency', '1', '--regex', regex], {
  cwd: ws,
  encoding: 'utf8',
  env: { ...process.env, PYTHONPATH: [site, process.env.PYTHONPATH].filter(Boolean).join(':') },
  maxBuffer: 64 * 1024 * 1024,
  timeout: 20 * 60 * 1000,
});
const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
writeFileSync(join(dir, 'tempest-run.txt'), output);

// Each test's line: "{0} tempest.api.network.Module.Class.test_x[id-…] [0.1s] ... ok" (or FAILED, or SKIPPED: why);
// a class that failed or skipped in its set-up shows as "{0} setUpClass (tempest.api.network.Module.Class) ...".
const tests = [];
for (const m of output.matchAll(/^\{\d+\} (.+?)(?: \[[\d.]+s\])? \.\.\. (ok|FAILED|SKIPPED:?(.*))$/gm))
  tests.push({
    id: m[1].replace(/\[[^\]]*\]$/, ''),
    result: m[2] === 'ok' ? 'pass' : m[2] === 'FAILED' ? 'fail' : 'skip',
    ...(m[3] ? { reason: m[3].trim() } : {}),
  });
// Why each failed: its traceback's last exception and Neutron's answer (the "Details:" line), from the report.
const report = output.slice(output.indexOf('\nFailed '));
for (const t of tests.filter((x) => x.result === 'fail')) {
  const at = report.indexOf(`\n${t.id}`);
  if (at < 0) continue;
  const block = report.slice(at + 1, report.indexOf('Captured pythonlogging', at) >>> 0).split('\n');
  const exc = block.filter((l) =>
    /^\s{4}[\w.]+(Error|Exception|BadRequest|Conflict|NotFound|Forbidden|Unauthorized)\b/.test(l),
  );
  const details = block.find((l) => l.startsWith('Details: '));
  t.reason = [exc.at(-1)?.trim(), details].filter(Boolean).join(' ').slice(0, 600);
}
// Tempest's own totals (a class's set-up counts once however many tests it holds).
const total = (name) => Number(new RegExp(`^ - ${name}: (\\d+)$`, 'm').exec(output)?.[1] ?? Number.NaN);
const ran = /^Ran: (\d+) tests?/m.exec(output);
const summary = {
  run: ran ? Number(ran[1]) : 0,
  pass: total('Passed'),
  skip: total('Skipped'),
  fail: total('Failed'),
  seconds: { setup: setupS, total: (Date.now() - started) / 1000 },
  extensions,
  tests,
};
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(summary, null, 2)}\n`);
for (const t of tests.filter((x) => x.result === 'fail')) process.stdout.write(`FAILED ${t.id}\n  ${t.reason ?? ''}\n`);
process.stdout.write(
  `tempest: run ${summary.run}, pass ${summary.pass}, skip ${summary.skip}, fail ${summary.fail} (${summary.seconds.total.toFixed(0)} s)\n`,
);
stopServer();
if (keep)
  process.stdout.write(`workspace: ${ws}\nserver log: ${logFile}\ntempest output: ${join(dir, 'tempest-run.txt')}\n`);
else rmSync(dir, { recursive: true, force: true });
if (summary.run === 0) die(`tempest ran no tests:\n${output.slice(-3000)}`);
