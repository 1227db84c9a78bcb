// What a failing lab test prints: per host the bridges, flows (and the datapath's), conntrack, tunnel state and logs; per VM addresses; the segment's VLANs; process log tails.
import type { LabContext } from './context.js';
import { attachOvs } from './ovs-instance.js';
import { logTail } from './processes.js';

/** Text for failure reports: per host the bridges, flows, tunnel neighbours/routes and log tails; per VM addresses and neighbours. */
export async function diagnostics(ctx: LabContext): Promise<string> {
  const s = ctx.state;
  const parts: string[] = [`lab ${s.prefix} (${s.mode}, encap ${s.encap})`];
  // Each part on its own: one that fails (a dead daemon) must not hide the others.
  const safe = async (what: string, f: () => Promise<string>) => {
    try {
      parts.push(`--- ${what}\n${(await f()).trimEnd()}`);
    } catch (err) {
      parts.push(`--- ${what}: ${(err as Error).message}`);
    }
  };
  for (const h of s.hosts) {
    const ovs = ctx.ovs(h);
    await safe(`${h.name}: ovs-vsctl show`, () => ovs.vsctl('show'));
    for (const br of [h.bridge, 'br-phy']) await safe(`${h.name}: dump-flows ${br}`, () => ovs.ofctl('dump-flows', br));
    await safe(`${h.name}: tnl/neigh/show`, () => ovs.appctl('tnl/neigh/show'));
    await safe(`${h.name}: ovs/route/show`, () => ovs.appctl('ovs/route/show'));
    // What the datapath really does and what conntrack holds (gateways' SNAT zones, security groups): the
    // questions a flaky north-south failure leaves open. The last lines only: both can be long.
    const last = (text: string, n: number) => text.trimEnd().split('\n').slice(-n).join('\n');
    await safe(`${h.name}: dpctl/dump-flows (last 60)`, async () => last(await ovs.appctl('dpctl/dump-flows'), 60));
    await safe(`${h.name}: dpctl/dump-conntrack (last 40)`, async () =>
      last(await ovs.appctl('dpctl/dump-conntrack'), 40),
    );
    await safe(`${h.name}: ovs-vswitchd.log (tail)`, async () => logTail(ovs.logs().vswitchd, 30));
  }
  for (const v of s.vms) {
    await safe(`${v.name}: ip addr / neigh`, async () => {
      const a = await ctx.exec(v.name, ['ip', '-br', 'addr']);
      const n = await ctx.exec(v.name, ['ip', 'neigh']);
      return a.stdout + n.stdout;
    });
  }
  if (s.segment) {
    const seg = s.segment;
    const ovs = attachOvs({ dir: seg.dir, netns: seg.netns });
    // The switch's VLAN table: each port's vlan_mode, tag (access VLAN / native VLAN) and trunks.
    await safe(`segment ${seg.netns}: ports (vlan_mode tag trunks)`, () =>
      ovs.vsctl('--columns=name,vlan_mode,tag,trunks', 'list', 'port'),
    );
    await safe(`segment ${seg.netns}: fdb/show ${seg.bridge} (learned MACs per VLAN)`, () =>
      ovs.appctl('fdb/show', seg.bridge),
    );
    await safe(`segment ${seg.netns}: ip -d link`, () => ctx.run('ext', ['ip', '-d', 'link', 'show']));
  }
  for (const u of s.uplinks) {
    await safe(`${u.host}: uplink ${u.port}`, () => ctx.run(u.host, ['ip', '-d', 'link', 'show', u.port]));
  }
  for (const e of s.externals) {
    await safe(`${e.name} (external, vlan ${e.vlan ?? 'flat'}): ip addr / neigh`, async () => {
      const a = await ctx.exec(e.name, ['ip', '-br', 'addr']);
      const n = await ctx.exec(e.name, ['ip', 'neigh']);
      return a.stdout + n.stdout;
    });
  }
  if (s.internet) {
    const i = s.internet;
    await safe(`${i.router} (internet router): ip route / eth1 / ip_forward`, async () => {
      const r = await ctx.exec(i.router, ['ip', 'route']);
      const a = await ctx.exec(i.router, ['ip', '-br', 'addr', 'show', 'eth1']);
      const f = await ctx.exec(i.router, ['sysctl', 'net.ipv4.ip_forward']);
      return r.stdout + a.stdout + f.stdout;
    });
    await safe(`${i.name} (internet host): ip addr / route / neigh`, async () => {
      const a = await ctx.exec(i.name, ['ip', '-br', 'addr']);
      const r = await ctx.exec(i.name, ['ip', 'route']);
      const n = await ctx.exec(i.name, ['ip', 'neigh']);
      return a.stdout + r.stdout + n.stdout;
    });
  }
  for (const p of s.procs) await safe(`process ${p.node}/${p.name} (tail)`, async () => logTail(p.log, 30));
  return parts.join('\n');
}

/** `ovs-appctl ofproto/trace` on a host's bridge (flow in ovs-ofctl syntax), for failure reports. */
export function trace(ctx: LabContext, host: string, flow: string, bridge?: string): Promise<string> {
  const h = ctx.hostState(host);
  return ctx.ovs(h).appctl('ofproto/trace', bridge ?? h.bridge, flow);
}
