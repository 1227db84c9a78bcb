// `vnet lab up|exec|status|down`: the network-namespace lab from the command line (state in /tmp/<prefix>/lab.json).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { Command, Option } from '@commander-js/extra-typings';
import { LabInputError } from './errors.js';
import { LAB_MARKER_ENV, nsArgv } from './exec.js';
import { type CleanupReport, Lab, type PingResult, type StatusReport } from './lab.js';
import { DEFAULT_PREFIX, defaultTopology, parseTopology, type Topology } from './topology.js';

// Commander cannot report our typed errors from an argument parser: a bad number becomes NaN here
// and the action reports it as a LabInputError (exit 2) like every other bad input.
function intArg(v: string): number {
  return /^\d+$/.test(v) ? Number(v) : Number.NaN;
}

function wholeNumber(v: number, field: string): number {
  if (Number.isNaN(v)) throw new LabInputError(field, 'must be a whole number');
  return v;
}

const prefixOption = () =>
  new Option('--prefix <prefix>', 'name prefix of the lab (namespaces, veths, /tmp/<prefix>)').default(DEFAULT_PREFIX);

/** Print a lab error as one line and exit: 2 for bad input, 1 otherwise. */
function fail(err: unknown): never {
  // Failures of the tools the lab drives (ip, ovs-vsctl, ...) are plain Errors with the command
  // and its stderr in the message: one line is more useful than a stack trace.
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`vnet lab: ${message}\n`);
  process.exit(err instanceof LabInputError ? 2 : 1);
}

function pfx(prefix: string): string {
  return prefix === DEFAULT_PREFIX ? '' : ` --prefix ${prefix}`;
}

/** Human summary of a lab: hosts with underlay IPs, VMs with addresses, how to use it. */
export function describe(st: StatusReport): string {
  const lines = [
    `lab '${st.prefix}': mode ${st.mode}${st.mode === 'plain' ? ` (hand-written flows, encap ${st.encap})` : ''}, underlay ${st.underlay} in netns ${st.prefix}-ul, run dir ${st.dir}`,
    'hosts:',
  ];
  for (const h of st.hosts) {
    const daemons = h.ovsdbPid && h.vswitchdPid ? 'ovs up' : 'OVS DOWN';
    lines.push(
      `  ${h.name.padEnd(6)} netns ${h.netns.padEnd(12)} underlay ${h.underlayIp.padEnd(15)} ${h.bridgeCreated ? `bridge ${h.bridge} dpid ${h.dpid}` : `bridge ${h.bridge} (left to the agent)`}  ovsdb unix:${h.dbSock}  ${daemons}`,
    );
  }
  lines.push('vms:');
  if (st.vms.length === 0) lines.push('  (none)');
  for (const v of st.vms) {
    lines.push(
      `  ${v.name.padEnd(6)} on ${v.host.padEnd(6)} netns ${v.netns.padEnd(12)} eth0 ${v.mac} ${(v.ip ?? 'no IP').padEnd(18)} mtu ${v.mtu}  port ${v.port}${v.attached ? ` on ${v.bridge}` : ' (detached)'}${v.ifaceId ? ` iface-id ${v.ifaceId}` : ''}`,
    );
  }
  if (st.segment) {
    lines.push(
      `segment: netns ${st.segment.netns} (node ext), switch ${st.segment.bridge} (OVS, ovsdb unix:${st.segment.dir}/db.sock; trunks: untagged = VLAN 1, flat)`,
    );
    for (const u of st.uplinks)
      lines.push(
        `  uplink ${u.host.padEnd(6)} port ${u.port}${u.attached ? ` on ${u.bridge}` : ' (detached)'} <-> trunk ${u.segPort}  mtu ${u.mtu}${u.cut ? '  CUT' : ''}`,
      );
    for (const e of st.externals)
      lines.push(
        `  ${e.name.padEnd(6)} netns ${e.netns.padEnd(12)} eth0 ${e.mac} ${(e.ip ?? 'no IP').padEnd(18)} ${e.vlan === null ? 'flat   ' : `vlan ${String(e.vlan).padEnd(4)}`} port ${e.segPort}`,
      );
  }
  if (st.internet) {
    const i = st.internet;
    lines.push(
      `internet: router ${i.router} (eth1 ${i.routerIp}, ip_forward, no NAT) <-> ${i.name} netns ${i.netns} eth0 ${i.ip}  http://${i.ip.split('/')[0]}/ echoes the client address`,
    );
  }
  if (st.procs.length > 0) {
    lines.push('processes:');
    for (const p of st.procs)
      lines.push(`  ${p.node}/${p.name} pid ${p.pid} ${p.alive ? 'running' : 'EXITED'}  log ${p.log}`);
  }
  const a = st.vms.find((v) => v.ip);
  const b = st.vms.find((v) => v.ip && v !== a);
  lines.push('use:');
  if (a && b) lines.push(`  vnet lab exec${pfx(st.prefix)} ${a.name} -- ping -c1 ${b.ip!.split('/')[0]}`);
  if (st.hosts[0])
    lines.push(
      `  vnet lab exec${pfx(st.prefix)} ${st.hosts[0].name} -- ovs-vsctl --db=unix:${st.hosts[0].dbSock} show`,
    );
  lines.push(`  vnet lab status${pfx(st.prefix)}`, `  vnet lab down${pfx(st.prefix)}`);
  return lines.join('\n');
}

function describeCleanup(r: CleanupReport): string {
  return `lab '${r.prefix}' down: ${r.namespaces.length} namespaces deleted${r.namespaces.length ? ` (${r.namespaces.join(' ')})` : ''}, ${r.killed.length} processes stopped, ${r.links.length} stray links removed, ${r.dirs.length ? `${r.dirs.join(' ')} removed` : 'no run dir'}`;
}

/** Ping from the first VM with an address to every other one; returns the failures. */
async function smoke(lab: Lab): Promise<string[]> {
  const vms = lab.vms().filter((v) => v.ip && v.state.attached);
  const failures: string[] = [];
  const src = vms[0];
  if (!src) return failures;
  for (const dst of vms.slice(1)) {
    const r = await lab.waitPing(src.name, dst.ip!, { timeoutMs: 10000 });
    const line = `ping ${src.name}@${src.host} -> ${dst.name}@${dst.host} ${dst.ip}: ${r.ok ? `ok (${r.rttMs ?? '?'} ms)` : 'FAILED'}`;
    process.stdout.write(`${line}\n`);
    if (!r.ok) failures.push(line);
  }
  return failures;
}

export function labCommand() {
  const lab = new Command('lab')
    .description('network-namespace lab: hosts with private OVS, an underlay, VMs on veths (see docs/lab.md)')
    .enablePositionalOptions();

  lab
    .command('up')
    .description('build a lab: --hosts/--vms, or a topology file; prints what it made')
    .addOption(prefixOption())
    .option('--hosts <n>', 'number of hosts h1..hN', intArg, 2)
    .option('--vms <n>', 'number of VMs vm1..vmN, spread round-robin over the hosts (10.0.0.11/24 ...)', intArg, 2)
    .option('--topology <file>', 'YAML topology file (overrides --hosts/--vms; see docs/lab.md)')
    .addOption(new Option('--encap <encap>', 'tunnel encapsulation of the plain setup').choices(['gre', 'vxlan']))
    .option('--underlay <cidr>', 'underlay subnet (exists only inside the lab)')
    .option('--plain', 'install hand-written L2 + tunnel flows on br0 (the default: no agent involved)')
    .option('--no-plain', 'do not install the hand-written flows (an agent will program br0)')
    .option('--create-bridge', 'create br0 on every host (the default)')
    .option('--no-create-bridge', 'do not create br0 (the agent creates it; implies --no-plain)')
    .option('--uplinks', 'give every host an uplink (ext0 on br0, a trunk on the provider segment)')
    .option('--internet', 'add an upstream router (192.168.10.1/24, VLAN 10) and an internet host 198.51.100.10')
    .option('--replace', 'take down a running lab with the same prefix first')
    .option('--check', 'after building, ping from the first VM to every other VM; exit 1 if any fails')
    .option('--json', 'print the lab status as JSON')
    .action(async (o) => {
      try {
        let topo: Topology;
        if (o.topology) {
          let text: string;
          try {
            text = readFileSync(o.topology, 'utf8');
          } catch (err) {
            throw new LabInputError('--topology', (err as Error).message);
          }
          topo = parseTopology(text, o.topology);
        } else topo = defaultTopology(wholeNumber(o.hosts, '--hosts'), wholeNumber(o.vms, '--vms'));
        const opts: Parameters<typeof Lab.up>[1] = { replace: o.replace === true };
        // An explicit --prefix wins over the file's; the default yields to it.
        if (o.prefix !== DEFAULT_PREFIX || topo.prefix === undefined) opts.prefix = o.prefix;
        if (o.encap) opts.encap = o.encap as 'gre' | 'vxlan';
        if (o.underlay) opts.underlay = o.underlay;
        // Both spellings of each flag exist; absent means the default (plain, create the bridge).
        if (o.plain === false || o.createBridge === false) opts.mode = 'none';
        else if (o.plain === true) opts.mode = 'plain';
        if (o.createBridge === false) opts.createBridge = false;
        if (o.plain === true && o.createBridge === false)
          throw new LabInputError('--plain', 'the plain setup needs the lab to create br0 (drop --no-create-bridge)');
        if (o.uplinks === true && o.createBridge === false)
          throw new LabInputError(
            '--uplinks',
            'uplinks are attached to the br0 the lab creates (drop --no-create-bridge)',
          );
        const t0 = Date.now();
        // Ctrl-C while building: finish the step in progress, then remove the half-built lab
        // (rather than leave namespaces and daemons for a later `down`).
        let interrupted = false;
        const onSignal = () => {
          interrupted = true;
          process.stderr.write('vnet lab: interrupted; removing the half-built lab\n');
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        const l = await Lab.up(topo, opts).finally(() => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        });
        if (interrupted) {
          await l.down();
          process.exit(130);
        }
        // The external side (docs/north-south.md): uplinks on the provider segment, and an internet beyond it.
        if (o.uplinks === true) for (const h of l.hosts()) await l.addUplink(h.name);
        if (o.internet === true) await l.addInternet();
        const st = l.status();
        if (o.json) process.stdout.write(`${JSON.stringify(st, null, 2)}\n`);
        else process.stdout.write(`${describe(st)}\nbuilt in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
        if (o.check) {
          if (l.mode !== 'plain')
            throw new LabInputError('--check', 'needs the plain setup (no agent programs br0 yet)');
          const failures = await smoke(l);
          if (failures.length > 0) {
            process.stderr.write(`${await l.diagnostics()}\n`);
            process.exit(1);
          }
        }
      } catch (err) {
        fail(err);
      }
    });

  lab
    .command('smoke')
    .description(
      'the lab smoke check: 2 hosts, 2 VMs, ping both ways through GRE then VXLAN, seen on the underlay; then down',
    )
    .addOption(prefixOption().default('vnlsmoke'))
    .option('--keep', 'leave the lab up afterwards')
    .action(async (o) => {
      let l: Lab | undefined;
      let failed = 0;
      try {
        l = await Lab.up(defaultTopology(2, 2), { prefix: o.prefix });
        const [a, b] = [l.vm('vm1'), l.vm('vm2')];
        for (const encap of ['gre', 'vxlan'] as const) {
          await l.setEncap(encap);
          await l.waitPing(a.name, b.ip!, { timeoutMs: 10000 });
          const lab = l;
          const cap = await lab.capture('ul', 'ul-h1', encap === 'gre' ? 'ip proto 47' : 'udp port 4789', async () => [
            await lab.ping(a.name, b.ip!, { count: 3, intervalS: 0.05 }),
            await lab.ping(b.name, a.ip!, { count: 3, intervalS: 0.05 }),
          ]);
          const [fwd, back] = cap.result as [PingResult, PingResult];
          const echoes = cap.lines.filter((x) => /ICMP echo (request|reply)/.test(x)).length;
          const ok = fwd.ok && back.ok && echoes === 12;
          if (!ok) failed++;
          process.stdout.write(
            `${ok ? 'PASS' : 'FAIL'}  ${encap}: vm1@h1 -> vm2@h2 ${fwd.received}/3 (${fwd.rttMs ?? '-'} ms), vm2 -> vm1 ${back.received}/3 (${back.rttMs ?? '-'} ms), ${echoes}/12 echoes ${encap}-encapsulated on the underlay\n`,
          );
        }
        if (failed) process.stderr.write(`${await l.diagnostics()}\n`);
      } catch (err) {
        failed++;
        process.stderr.write(`vnet lab smoke: ${err instanceof Error ? err.message : String(err)}\n`);
      } finally {
        if (l && !o.keep) await l.down();
      }
      process.stdout.write(
        `lab smoke: ${failed ? 'FAILED' : 'ok'}${o.keep && l ? ` (lab '${o.prefix}' left up)` : ''}\n`,
      );
      process.exitCode = failed ? 1 : 0;
    });

  lab
    .command('exec')
    .description(
      'run a command inside a lab node (VM, host, external node, "ul", "ext" or "root"); exits with its status',
    )
    .addOption(prefixOption())
    .argument('<node>', 'VM, host or external node name (or ul, ext, root)')
    .argument('<cmd...>', 'the command, after --')
    .passThroughOptions()
    .action(async (node, cmd, o) => {
      let argv: string[];
      // passThroughOptions keeps the `--` separator in the variadic argument.
      if (cmd[0] === '--') cmd = cmd.slice(1);
      try {
        if (cmd.length === 0) throw new LabInputError('cmd', 'give the command after --');
        argv = nsArgv(Lab.open(o.prefix).nodeNetns(node), cmd);
      } catch (err) {
        fail(err);
      }
      const child = spawn(argv[0]!, argv.slice(1), {
        stdio: 'inherit',
        env: { ...process.env, [LAB_MARKER_ENV]: `/tmp/${o.prefix}` },
      });
      child.on('error', (err) => {
        process.stderr.write(`vnet lab exec: ${err.message}\n`);
        process.exit(127);
      });
      child.on('exit', (code, signal) => {
        process.exit(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
      });
    });

  lab
    .command('status')
    .description('show the lab: hosts, VMs, processes and whether their daemons run')
    .addOption(prefixOption())
    .option('--json', 'as JSON')
    .action((o) => {
      try {
        const st = Lab.open(o.prefix).status();
        process.stdout.write(o.json ? `${JSON.stringify(st, null, 2)}\n` : `${describe(st)}\n`);
      } catch (err) {
        fail(err);
      }
    });

  lab
    .command('down')
    .description('remove everything the lab made (also after a crash: found by prefix)')
    .addOption(prefixOption())
    .option('--json', 'print the cleanup report as JSON')
    .action(async (o) => {
      try {
        const r = await Lab.destroy(o.prefix);
        process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : `${describeCleanup(r)}\n`);
      } catch (err) {
        fail(err);
      }
    });

  return lab;
}
