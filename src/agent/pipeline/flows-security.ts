// Filters and security groups (issue 7): stateful ACLs on conntrack, rules compiled with conjunctive matches.
//
// An interface with at least one security group or filter is "filtered": its traffic passes egress_ct →
// egress_acl → egress_verdict on the way out and ingress_ct → ingress_acl → ingress_verdict on the way in (reg2
// names the destination port). The *_acl tables judge: replies of live connections and related packets pass at
// once; every packet in the request direction, new or established, meets the rules, so a rule or remote-group
// member that goes away also stops the connections it let in (as OVN applies ACL changes to existing
// connections). An allowing rule sets the direction's ALLOWED bit; the *_verdict tables act on it with
// conntrack (commit new, unblock re-allowed, mark refused established connections as blocked). Security groups:
// default deny inbound, allow outbound, plus the groups' rules. Filters (OpenVNet statics, written as traffic
// arriving, mirrored on the way out): pass (stateless, both ways), conn (the interface's own connections,
// stateful), drop (both ways); *_passthrough opens a direction. A rule is compiled as conjunction(member port) ×
// (remote addresses) × (protocol/ports), so the flow count grows with members + addresses + port masks, not
// with their product.
import type { Action, Flow, Match, MatchEntry } from '../../openflow/types.js';
import { parseCidr, prefixMask } from './addr.js';
import {
  apply,
  CS,
  DHCP_CLIENT_PORT,
  DHCP_SERVER_PORT,
  ETH_TYPE_IP,
  exact,
  flow,
  goto,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  load,
} from './build.js';
import { cookieFor, objectHash, pipelineCookie } from './cookies.js';
import type { CompileContext } from './compile-context.js';
import { parsedAddresses } from './flows-interface.js';
import { ruleProtocolNumber } from '../../model/resources/security-groups.js';
import type { Filter, FilterStatic, Interface, SecurityGroupRule } from '../../model/types.js';
import { interfaceNetworks } from './model-view.js';
import {
  CT_BLOCKED_EGRESS,
  CT_BLOCKED_INGRESS,
  EGRESS_ALLOWED,
  INGRESS_ALLOWED,
  matchReg,
  OUT_PORT,
  type RegField,
} from './registers.js';
import type { TableName } from './tables.js';

/** The two directions of filtering: where they judge, where they act, where a passing packet goes on. */
export interface AclDirection {
  acl: TableName;
  verdict: TableName;
  next: TableName;
  /** reg0 bit an allowing rule sets. */
  allowed: RegField;
  /** ct_mark bit of a connection this direction's rules stopped allowing. */
  blocked: RegField;
}
export const ACL: Readonly<Record<'egress' | 'ingress', AclDirection>> = {
  egress: {
    acl: 'egress_acl',
    verdict: 'egress_verdict',
    next: 'arp_responder',
    allowed: EGRESS_ALLOWED,
    blocked: CT_BLOCKED_EGRESS,
  },
  ingress: {
    acl: 'ingress_acl',
    verdict: 'ingress_verdict',
    next: 'output',
    allowed: INGRESS_ALLOWED,
    blocked: CT_BLOCKED_INGRESS,
  },
};

/** What an allowing rule does: say so, and let the verdict table commit or unblock the connection. */
function allowAction(d: AclDirection) {
  return [apply(load(d.allowed, 1)), goto(d.verdict)];
}

/** What a drop rule does: the verdict table drops, and marks an established connection blocked. */
function refuseAction(d: AclDirection) {
  return [goto(d.verdict)];
}

export const PRIO_SEC = {
  /** DHCP from a filtered VM always reaches the DHCP punt (the agent answers; replies bypass the pipeline). */
  dhcp: 60000,
  /** Filter drop rules beat every allow. */
  drop: 3000,
  /** Filter pass/conn rules. */
  filterAllow: 2500,
  /** Security-group rules that need no conjunction (any protocol from anywhere). */
  sgPlain: 2100,
  /** Security-group rules as conjunctions: every clause of a conjunction shares this priority. */
  allow: 2000,
  /** Direction-wide allows: security-group egress, filter passthrough. */
  direction: 1000,
  /**
   * Stateless statics on packets conntrack calls invalid, above the acl tables' invalid-drop (flows-static.ts
   * PRIO.ctInvalid, 65000): drops first, as everywhere.
   */
  invalidDrop: 65200,
  invalidPass: 65100,
} as const;

/** ct_state +trk+inv: what conntrack calls invalid (e.g. the reply of a request nobody committed). */
const CT_INVALID: Match = { ct_state: { value: CS.trk | CS.inv, mask: CS.trk | CS.inv } };

/** [min, max] as value/mask blocks (the classic prefix decomposition). */
export function portMasks(min: number, max: number): MatchEntry[] {
  const out: MatchEntry[] = [];
  let lo = min;
  while (lo <= max) {
    let size = 1;
    while (size < 0x10000 && lo % (size * 2) === 0 && lo + size * 2 - 1 <= max) size *= 2;
    out.push(size === 1 ? { value: lo } : { value: lo, mask: 0xffff & ~(size - 1) });
    lo += size;
  }
  return out;
}

function cidrEntry(s: string | null | undefined, field: string): MatchEntry | null {
  if (!s) return null;
  const { addr, len } = parseCidr(s, field);
  if (len === 0) return null;
  return len === 32 ? { value: addr } : { value: addr, mask: prefixMask(len) };
}

/** Protocol part of a match: one entry per port block (or one with no port). */
function protoMatches(
  protocol: string,
  portMin: number | null | undefined,
  portMax: number | null | undefined,
  side: 'dst' | 'src' = 'dst',
): Match[] | null {
  const base: Match = { eth_type: exact(ETH_TYPE_IP) };
  if (protocol === 'any' || protocol === 'ip') return [base];
  if (protocol === 'icmp') return [{ ...base, ip_proto: exact(IPPROTO_ICMP) }];
  if (protocol !== 'tcp' && protocol !== 'udp') return null;
  const proto: Match = { ...base, ip_proto: exact(protocol === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP) };
  const lo = portMin ?? null;
  const hi = portMax ?? portMin ?? null;
  if (lo === null || (lo <= 1 && (hi ?? 65535) >= 65535)) return [proto];
  const field = `${protocol}_${side}` as 'tcp_dst';
  return portMasks(lo, Math.max(lo, hi ?? lo)).map((m) => ({ ...proto, [field]: m }));
}

/**
 * Protocol part of a security-group rule's match: by name or IP protocol number; tcp/udp with their ports, ICMP
 * with its type and code (port_range_min/max, as Neutron), any other protocol as a whole.
 */
function ruleMatches(rule: SecurityGroupRule): Match[] | null {
  const number = ruleProtocolNumber(rule.protocol);
  if (number === null) return [{ eth_type: exact(ETH_TYPE_IP) }];
  if (number === IPPROTO_TCP || number === IPPROTO_UDP)
    return protoMatches(number === IPPROTO_TCP ? 'tcp' : 'udp', rule.port_range_min, rule.port_range_max);
  const m: Match = { eth_type: exact(ETH_TYPE_IP), ip_proto: exact(number) };
  if (number === IPPROTO_ICMP && rule.port_range_min != null) {
    m.icmpv4_type = exact(rule.port_range_min);
    if (rule.port_range_max != null) m.icmpv4_code = exact(rule.port_range_max);
  }
  return [m];
}

/** A local filtered interface. */
interface Target {
  uuid: string;
  ofport: number;
  iface: Interface;
}

/** Merges flows of one identity (conjunctive clauses of several rules) into one flow with several conjunctions. */
class FlowSet {
  private readonly byKey = new Map<string, Flow>();
  /** Conjunction actions per identity, merged once at the end (per-add merging was quadratic). */
  private readonly conj = new Map<string, Map<string, Action & { type: 'conjunction' }>>();
  add(f: Flow): void {
    const k = `${f.table}/${f.priority}/${matchId(f.match)}`;
    const acts =
      f.instructions.length === 1 && f.instructions[0]!.type === 'apply_actions' ? f.instructions[0]!.actions : null;
    const isConj = acts !== null && acts.length > 0 && acts.every((a) => a.type === 'conjunction');
    const old = this.byKey.get(k);
    if (!old) this.byKey.set(k, f);
    if (isConj && (!old || this.conj.has(k))) {
      let m = this.conj.get(k);
      if (!m) this.conj.set(k, (m = new Map()));
      for (const a of acts as (Action & { type: 'conjunction' })[]) m.set(`${a.id}/${a.clause}`, a);
    }
    // Otherwise the first flow of an identity wins (same match, same priority: equivalent rules).
  }
  /** Add a conjunction to the member clause flow (the member's port match) without building a flow. */
  addConj(table: TableName, priority: number, cookie: bigint, member: Match, ofport: number, a: Action): void {
    const k = `member/${table}/${priority}/${ofport}`;
    if (!this.byKey.has(k)) this.byKey.set(k, flow(table, priority, cookie, member, []));
    let m = this.conj.get(k);
    if (!m) this.conj.set(k, (m = new Map()));
    const c = a as Action & { type: 'conjunction' };
    m.set(`${c.id}/${c.clause}`, c);
  }
  flows(): Flow[] {
    const out: Flow[] = [];
    for (const [k, f] of this.byKey) {
      const m = this.conj.get(k);
      if (!m) out.push(f);
      else
        out.push({
          ...f,
          instructions: [apply(...[...m.values()].sort((a, b) => a.id - b.id || a.clause - b.clause))],
        });
    }
    return out;
  }
}

function matchId(m: Match): string {
  return Object.keys(m)
    .sort()
    .map((k) => {
      const e = m[k as keyof Match]!;
      return `${k}=${e.value.toString(16)}/${e.mask?.toString(16) ?? ''}`;
    })
    .join(',');
}

export function securityFlows(ctx: CompileContext): Flow[] {
  ctx.dep('bindings');
  ctx.dep('any:security_groups');
  ctx.dep('any:filters');
  // Which local interfaces are filtered changes only with bindings, group membership or filters; depending on
  // those (not on every local interface) keeps unrelated interface changes from recomputing the ACLs.
  ctx.dep('any:sg-members');
  ctx.dep('any:iface-filters');
  const targets: Target[] = [];
  for (const [uuid, b] of ctx.bindings) {
    const iface = ctx.view.interfaces.get(uuid);
    if (!iface) continue;
    if ((iface.security_group_uuids?.length ?? 0) === 0 && (ctx.view.filtersByInterface.get(uuid)?.size ?? 0) === 0)
      continue;
    ctx.dep(`interfaces:${uuid}`);
    targets.push({ uuid, ofport: b.ofport, iface });
  }
  targets.sort((a, b) => a.ofport - b.ofport);
  const out = new FlowSet();
  if (targets.length > 0) {
    const dhcp: Match = {
      eth_type: exact(ETH_TYPE_IP),
      ip_proto: exact(IPPROTO_UDP),
      udp_src: exact(DHCP_CLIENT_PORT),
      udp_dst: exact(DHCP_SERVER_PORT),
    };
    out.add(flow('egress_acl', PRIO_SEC.dhcp, pipelineCookie('dhcp'), dhcp, [goto('arp_responder')]));
  }
  const conjIds = new ConjIds();

  // Security groups: per group, its local members; per ingress rule, one conjunction.
  const membersByGroup = new Map<string, Target[]>();
  for (const t of targets)
    for (const g of t.iface.security_group_uuids ?? []) {
      let l = membersByGroup.get(g);
      if (!l) membersByGroup.set(g, (l = []));
      l.push(t);
    }
  const hasEgressRules = (g: string) =>
    (ctx.view.securityGroups.get(g)?.rules ?? []).some((r) => r.direction === 'egress');
  for (const t of targets) {
    const groups = t.iface.security_group_uuids ?? [];
    if (groups.length === 0) continue;
    // Outbound is open (committed, so replies come back in) unless one of the interface's groups has egress
    // rules: then, as in Neutron, only what those rules allow goes out.
    if (groups.some(hasEgressRules)) continue;
    out.add(
      flow(
        'egress_acl',
        PRIO_SEC.direction,
        cookieFor('interface', t.uuid, 'filter'),
        { in_port: exact(t.ofport), eth_type: exact(ETH_TYPE_IP) },
        allowAction(ACL.egress),
      ),
    );
  }
  for (const [g, members] of [...membersByGroup].sort(([a], [b]) => (a < b ? -1 : 1))) {
    ctx.dep(`security_groups:${g}`);
    ctx.dep(`sg-members:${g}`);
    const sg = ctx.view.securityGroups.get(g);
    for (const rule of sg?.rules ?? []) {
      if (rule.direction !== 'ingress' && rule.direction !== 'egress') continue;
      try {
        compileSgRule(ctx, out, conjIds, g, rule, members);
      } catch (err) {
        ctx.report(err);
      }
    }
  }

  // Filters.
  for (const t of targets)
    for (const f of [...(ctx.view.filtersByInterface.get(t.uuid) ?? [])].sort()) {
      ctx.dep(`filters:${f}`);
      const filter = ctx.view.filters.get(f);
      if (!filter) continue;
      try {
        compileFilter(out, t, filter);
      } catch (err) {
        ctx.report(err);
      }
    }
  return out.flows();
}

/** Stable conjunction ids: a hash of the rule, probed on collision. */
class ConjIds {
  private readonly used = new Set<number>();
  get(key: string): number {
    let id = Number(objectHash(key) & 0x7fffffffn) || 1;
    while (this.used.has(id)) id = (id % 0x7fffffff) + 1;
    this.used.add(id);
    return id;
  }
}

/** Addresses of a remote group's members (every network: the group is about who, not where). */
function groupAddresses(ctx: CompileContext, g: string): MatchEntry[] {
  ctx.dep(`sg-members:${g}`);
  const out = new Map<number, MatchEntry>();
  for (const u of [...(ctx.view.membersBySecurityGroup.get(g) ?? [])].sort()) {
    ctx.dep(`interfaces:${u}`);
    const i = ctx.view.interfaces.get(u);
    if (!i) continue;
    for (const n of interfaceNetworks(i)) for (const a of parsedAddresses(i, n)) out.set(a.ip, { value: a.ip });
  }
  return [...out.values()];
}

function compileSgRule(
  ctx: CompileContext,
  out: FlowSet,
  conjIds: ConjIds,
  group: string,
  rule: SecurityGroupRule,
  members: Target[],
): void {
  const cookie = cookieFor('security_group', group, 'filter');
  const ingress = rule.direction === 'ingress';
  // Ingress: the member is the destination (OUT_PORT), the remote the source; egress: the member sends (in_port)
  // to the remote (ipv4_dst).
  const dir = ingress ? ACL.ingress : ACL.egress;
  const table = dir.acl;
  const memberMatch = (m: Target): Match => (ingress ? matchReg(OUT_PORT, m.ofport) : { in_port: exact(m.ofport) });
  const remoteField = ingress ? 'ipv4_src' : 'ipv4_dst';
  const protos = ruleMatches(rule);
  if (!protos) return;
  let remotes: MatchEntry[] | null = null; // null: any remote
  if (rule.remote_group_uuid) remotes = groupAddresses(ctx, rule.remote_group_uuid);
  else {
    const c = cidrEntry(rule.remote_ip_prefix, `security_groups.${group}.rules.${rule.uuid}.remote_ip_prefix`);
    if (c) remotes = [c];
  }
  if (remotes !== null && remotes.length === 0) return; // a remote group with no members allows nothing
  const allow = allowAction(dir);
  const protoTrivial = protos.length === 1 && Object.keys(protos[0]!).length === 1; // just eth_type=ip
  const dims = 1 + (remotes ? 1 : 0) + (protoTrivial ? 0 : 1);
  if (dims === 1) {
    // Any protocol, any remote: one plain flow per member.
    for (const m of members)
      out.add(flow(table, PRIO_SEC.sgPlain, cookie, { ...memberMatch(m), eth_type: exact(ETH_TYPE_IP) }, allow));
    return;
  }
  const id = conjIds.get(`${group}/${rule.uuid}`);
  let clause = 1;
  const conj = (k: number): Action => ({ type: 'conjunction', id, clause: k, nClauses: dims });
  const c1 = clause++;
  // One clause-1 flow per member carries the conjunctions of all its rules (FlowSet merges by identity);
  // build the match once per member and table.
  const c1Action = conj(c1);
  for (const m of members) out.addConj(table, PRIO_SEC.allow, cookie, memberMatch(m), m.ofport, c1Action);
  if (remotes) {
    const c2 = clause++;
    for (const r of remotes)
      out.add(
        flow(table, PRIO_SEC.allow, cookie, { eth_type: exact(ETH_TYPE_IP), [remoteField]: r }, [apply(conj(c2))]),
      );
  }
  if (!protoTrivial) {
    const c3 = clause++;
    for (const p of protos) out.add(flow(table, PRIO_SEC.allow, cookie, p, [apply(conj(c3))]));
  }
  out.add(flow(table, PRIO_SEC.allow, cookie, { conj_id: exact(id), eth_type: exact(ETH_TYPE_IP) }, allow));
}

function compileFilter(out: FlowSet, t: Target, filter: Filter): void {
  const cookie = cookieFor('filter', filter.uuid, 'filter');
  const dirs: { dir: AclDirection; key: Match; passthrough: boolean; way: StaticWay }[] = [
    { dir: ACL.egress, key: { in_port: exact(t.ofport) }, passthrough: !!filter.egress_passthrough, way: 'out' },
    { dir: ACL.ingress, key: matchReg(OUT_PORT, t.ofport), passthrough: !!filter.ingress_passthrough, way: 'in' },
  ];
  for (const { dir, key, passthrough, way } of dirs) {
    if (passthrough)
      out.add(flow(dir.acl, PRIO_SEC.direction, cookie, { ...key, eth_type: exact(ETH_TYPE_IP) }, allowAction(dir)));
    for (const s of filter.statics ?? []) {
      // conn opens the interface's own connections only (OpenVNet: an egress rule whose first packet makes the
      // connection): the way out commits, replies pass as est+rpl, and nothing inbound is admitted by it.
      if (s.action === 'conn' && way === 'in') continue;
      for (const m of staticMatches(filter, s, way)) {
        const match: Match = { ...key, ...m };
        if (s.action === 'drop') {
          out.add(flow(dir.acl, PRIO_SEC.drop, cookie, match, refuseAction(dir)));
          out.add(flow(dir.acl, PRIO_SEC.invalidDrop, cookie, { ...match, ...CT_INVALID }, []));
        } else if (s.action === 'conn') out.add(flow(dir.acl, PRIO_SEC.filterAllow, cookie, match, allowAction(dir)));
        else if (s.action === 'pass') {
          // Stateless: the packet goes on untouched by conntrack (its replies need a rule of their own) — whatever
          // conntrack thinks of it: nothing committed a stateless request, so its reply (an echo reply, a
          // SYN-ACK) is "invalid" to conntrack; OpenVNet's statics never asked (its filter spec: fil-test1).
          out.add(flow(dir.acl, PRIO_SEC.filterAllow, cookie, match, [goto(dir.next)]));
          out.add(flow(dir.acl, PRIO_SEC.invalidPass, cookie, { ...match, ...CT_INVALID }, [goto(dir.next)]));
        }
      }
    }
  }
}

/**
 * Which way a static is matched. A static describes traffic arriving at its interface, as OpenVNet's do: src_* is
 * the far end, dst_* the interface's own end. Coming in it matches as written; going out it matches the mirror
 * (src_address is the destination, src_port the destination port, dst_port the source port), so one `pass` lets
 * both a request and its reply through, and `tcp src_address A pass` opens TCP with A either way.
 */
type StaticWay = 'in' | 'out';

/** Matches of one static rule one way (ARP rules compile to nothing: ARP is not filtered, anti-spoofing guards it). */
function staticMatches(filter: Filter, s: FilterStatic, way: StaticWay): Match[] {
  if (s.protocol === 'arp') return [];
  const where = `filters.${filter.uuid}.statics`;
  const far = cidrEntry(s.src_address, `${where}.src_address`);
  const own = cidrEntry(s.dst_address, `${where}.dst_address`);
  const port = (p: number | null | undefined) => (p ? p : null);
  const [farPort, ownPort] = [port(s.src_port), port(s.dst_port)];
  const inbound = way === 'in';
  let base = protoMatches(s.protocol, ownPort, ownPort, inbound ? 'dst' : 'src');
  if (!base) return [];
  if ((s.protocol === 'tcp' || s.protocol === 'udp') && farPort)
    base = base.map((m) => ({ ...m, [`${s.protocol}_${inbound ? 'src' : 'dst'}`]: { value: farPort } }));
  const [srcIp, dstIp] = inbound ? [far, own] : [own, far];
  return base.map((m) => ({ ...m, ...(srcIp ? { ipv4_src: srcIp } : {}), ...(dstIp ? { ipv4_dst: dstIp } : {}) }));
}
