// `ofproto/trace` through ovs-vswitchd's control socket, and a parser of the text it answers (OVS 3.1).
//
// The text (ofproto/ofproto-dpif-trace.c, ofproto_trace__ and oftrace_node_print_details) is one or more
// passes: the first translation of the flow as given, then one per recirculation OVS resumed, each headed
// by a line of 79 '=' and `recirc(0x…)[ - resume conntrack with …]`. A pass is
//
//   Flow: <flow>
//   <blank>
//   bridge("br0")
//   -------------
//    0. in_port=1, priority 100, cookie 0x104000000001234     ← a flow hit: "%2d. " match, priority, cookie
//       goto_table:10                                          ← its actions, one a line
//        -> a detail                                           ← " -> " details, " >> " warnings, " >>>> e <<<<"
//   10. No match.                                              ← a miss (also 'No match, and a "packet-in" …')
//   <blank>
//   Final flow: <flow> | unchanged
//   Megaflow: <match>
//   Datapath actions: <odp actions> | drop
//   [Translation failed (…), packet is dropped. | a slow-path explanation]
//
// The trace is a tree printed by indentation: a node sits at (level + more) * 4 spaces, where `more` is 1
// unless it is the last of its list and has children; a hit's actions and the tables it reaches are its
// children. So a goto_table or a resubmit that is the flow's last action prints the next table at the same
// indentation (a chain), while a resubmit followed by more actions prints it deeper (4 more spaces, and its
// own actions 8 deeper), and the caller's later actions come back at their own indentation. The parser
// keeps a stack of open hits keyed by those indentations to give every line to the hit it belongs to.
import { unixctlCall } from './client.js';

/** One table visited: a flow hit or a miss. */
export interface TraceStep {
  /** Which pass it belongs to: 0 the first translation, i the recirculation `passes[i]`. */
  pass: number;
  /** The bridge whose table this is (a native tunnel or a patch port continues in another bridge). */
  bridge: string;
  table: number;
  /** The hit flow's match as OVS prints it ('' for a catch-all, and for a miss). */
  match: string;
  /** null on a miss. */
  priority: number | null;
  /** The hit flow's cookie (OVS omits a zero cookie: 0n then); null on a miss. */
  cookie: bigint | null;
  /** The action lines OVS printed for the hit, in order and trimmed (`goto_table:10`, `ct(table=20,zone=5)`, `drop`, `output:2`). */
  actions: string[];
  /** Its ` -> ` detail lines (`output to native tunnel`, `no learned MAC for destination, flooding`, …). */
  notes: string[];
  /** Its ` >> ` warnings and ` >>>> … <<<<` errors (e.g. `over max translation depth 64`). */
  warnings: string[];
  /**
   * Nesting as printed (the table line's indentation / 4): 0 for the main chain of goto_tables and tail
   * resubmits; a resubmit (or clone, group bucket, patch port) followed by more actions in the calling flow
   * prints the tables it reaches one level deeper or more.
   */
  depth: number;
  /** A table miss: `No match.`, `No match, and a "packet-in" is called for.`, or the IP-fragment drop. */
  noMatch: boolean;
  /** The table line after `N. `, verbatim. */
  text: string;
  /** Index (0-based) of the table line in the traced text: where an annotation of this step belongs. */
  line: number;
}

/** A tunnel the packet is sent into, from a datapath action. */
export interface TraceTunnel {
  /** Outer source address: from the pushed header (native tunnel), or the `src=` of set(tunnel(…)) if any. */
  src: string | null;
  /** Outer destination address. */
  dst: string;
  /** GRE key, VXLAN/Geneve VNI (`tun_id` of set(tunnel(…))); null when none is sent. */
  key: number | null;
  /**
   * `gre`, `vxlan`, `geneve`, `erspan`, `gtpu`, `srv6` from a tnl_push header. A set(tunnel(…)) does not
   * say: inferred from its UDP port (4789 vxlan, 6081 geneve, 2152 gtpu, 7471 stt), `gre` without one.
   */
  type: string;
  /** `tnl_push`: the pushed header (native tunnel, userspace datapath); `set`: set(tunnel(…)) then output to the vport. */
  via: 'tnl_push' | 'set';
  /** tnl_push's tunnel vport (datapath port number); null for set(tunnel(…)). */
  tunnelPort: number | null;
  /** tnl_push's out_port: the datapath port of the bridge that routes the outer packet (e.g. br-phy's). */
  outPort: number | null;
  /** The datapath action, verbatim. */
  action: string;
}

/** One translation: the first one, or one resumed after a recirculation. */
export interface TracePass {
  /** The `Flow:` line (for a recirculation: with recirc_id, ct_state and ct_zone set). */
  flow: string;
  /** This pass's steps in printed order. */
  steps: TraceStep[];
  /** The final flow (OVS's `unchanged` resolved to `flow`); null when the line is missing (a truncated text). */
  finalFlow: string | null;
  /** Whether OVS printed a final flow other than `unchanged`; null when the line is missing. */
  flowChanged: boolean | null;
  megaflow: string | null;
  /** The datapath actions, verbatim (`drop` when none); '' when the line is missing. */
  datapathActions: string;
  /** The datapath actions split at top-level commas. */
  datapathActionList: string[];
  /** The datapath actions are `drop` or empty. */
  dropped: boolean;
  /** Plain output actions (datapath port numbers), also those inside clone(…): after a tnl_push that is the port the outer packet leaves by. */
  outputs: number[];
  tunnels: TraceTunnel[];
  /** A userspace(…controller(…)) action: the packet goes to the OpenFlow controller (packet-in). */
  toController: boolean;
  /** recirc(…) ids in the datapath actions: the recirculations this pass starts. */
  recirculates: number[];
  /** `Translation failed (<reason>), packet is dropped.`: the reason. */
  translationError: string | null;
  /** Other lines of the pass: thaw lines before the first table, what OVS prints after the datapath actions. */
  notes: string[];
}

/** A pass OVS resumed after a recirculation (a ct(table=…), or a bond/tunnel recirculation). */
export interface TraceRecirculation extends TracePass {
  recircId: number;
  /** The state the trace resumed conntrack with: `est|trk` (from --ct-next), or the default `trk|new`; null for a non-conntrack recirculation. */
  ctState: string | null;
  /** The ct state was OVS's default (no --ct-next left for this recirculation). */
  ctStateDefault: boolean;
  /** OVS simulated a ct(nat(…)): the L3/L4 fields before and after, as it prints them. */
  nat: { initial: string; modified: string } | null;
  /** The table the pipeline resumed at (`Resuming from table N`); null when not printed. */
  resumedAt: number | null;
  /** The header line after the '=' rule, verbatim (`recirc(0x1) - resume conntrack with ct_state=est|trk`). */
  header: string;
}

export interface OfprotoTrace {
  /** The flow as OVS parsed it (the first pass's `Flow:`). */
  flow: string;
  /** Every pass's steps in printed order (`step.pass` tells which). */
  steps: TraceStep[];
  /** The first pass's final flow, megaflow and datapath actions (each recirculation has its own). */
  finalFlow: string | null;
  megaflow: string | null;
  datapathActions: string;
  /** The first translation failed (`Translation failed (…)`): the reason. */
  translationError: string | null;
  /** Every pass: [0] the first translation, then each recirculation (the same objects as `recirculations`). */
  passes: TracePass[];
  recirculations: TraceRecirculation[];
  /** Over all passes: the packet is neither output, tunnelled nor sent to the controller anywhere. */
  dropped: boolean;
  /** The first tunnel over all passes (null: none). */
  tunnel: TraceTunnel | null;
  tunnels: TraceTunnel[];
  /** Plain outputs (datapath ports) over all passes, in order. */
  outputs: number[];
  toController: boolean;
}

const RULE = /^={20,}$/;
const TABLE_LINE = /^( *)(\d+)\. (.*)$/;
const BRIDGE_LINE = /^( *)bridge\("(.*)"\)$/;
const DASHES = /^ *-+$/;
const HIT = /^(.*?)(?:, )?priority (\d+)(?:, cookie (0x[0-9a-fA-F]+))?$/;

interface OpenStep {
  step: TraceStep;
  indent: number;
  contentIndent: number | undefined;
}

interface OpenBridge {
  name: string;
  minIndent: number | undefined;
}

function emptyPass(): TracePass {
  return {
    flow: '',
    steps: [],
    finalFlow: null,
    flowChanged: null,
    megaflow: null,
    datapathActions: '',
    datapathActionList: [],
    dropped: true,
    outputs: [],
    tunnels: [],
    toController: false,
    recirculates: [],
    translationError: null,
    notes: [],
  };
}

/**
 * Parses the text of `ovs-appctl ofproto/trace <bridge> <flow>` (OVS 3.1). It never throws: a text that is
 * not a trace gives a trace with an empty flow and no steps, and a truncated one what it had.
 */
export function parseOfprotoTrace(text: string): OfprotoTrace {
  const lines = String(text).split(/\r?\n/);
  const passes: TracePass[] = [];
  let pass = emptyPass();
  passes.push(pass);
  // Where in a pass we are: before its Flow line, in its tree, or after its Final flow line.
  let phase: 'head' | 'tree' | 'tail' = 'head';
  let stack: OpenStep[] = [];
  let bridges: OpenBridge[] = [];

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (RULE.test(line)) {
      // A recirculation's header: lines up to the closing rule.
      const head: string[] = [];
      while (i + 1 < lines.length && !RULE.test(lines[i + 1]!)) head.push(lines[++i]!);
      i++;
      pass = recirculationPass(head);
      passes.push(pass);
      phase = 'head';
      stack = [];
      bridges = [];
      continue;
    }
    if (line.trim() === '') continue;
    if (phase === 'head') {
      if (line.startsWith('Flow: ')) {
        pass.flow = line.slice('Flow: '.length);
        phase = 'tree';
      }
      continue;
    }
    if (line.startsWith('Final flow: ')) {
      const f = line.slice('Final flow: '.length);
      pass.flowChanged = f !== 'unchanged';
      pass.finalFlow = pass.flowChanged ? f : pass.flow;
      phase = 'tail';
      continue;
    }
    if (line.startsWith('Megaflow: ')) {
      pass.megaflow = line.slice('Megaflow: '.length);
      phase = 'tail';
      continue;
    }
    if (line.startsWith('Datapath actions: ') || line === 'Datapath actions:') {
      setDatapathActions(pass, line.slice('Datapath actions:'.length).trim());
      phase = 'tail';
      continue;
    }
    const failed = /^Translation failed \((.*)\), packet is dropped\.$/.exec(line);
    if (failed) {
      pass.translationError = failed[1]!;
      pass.dropped = true;
      continue;
    }
    if (phase === 'tail') {
      pass.notes.push(line.trim());
      continue;
    }
    treeLine(pass, passes.length - 1, line, i, stack, bridges);
  }
  return summarize(passes);
}

function recirculationPass(head: string[]): TraceRecirculation {
  const rec: TraceRecirculation = {
    ...emptyPass(),
    recircId: Number.NaN,
    ctState: null,
    ctStateDefault: false,
    nat: null,
    resumedAt: null,
    header: head[0] ?? '',
  };
  const m = /^recirc\((0x[0-9a-fA-F]+|\d+)\)(?: - resume conntrack with (default )?ct_state=([^ ]+))?/.exec(rec.header);
  if (m) {
    rec.recircId = Number(m[1]);
    rec.ctState = m[3] ?? null;
    rec.ctStateDefault = m[2] !== undefined;
  }
  const initial = head.find((l) => l.startsWith(' Initial flow: '));
  const modified = head.find((l) => l.startsWith(' Modified flow: '));
  if (initial !== undefined && modified !== undefined)
    rec.nat = { initial: initial.slice(' Initial flow: '.length), modified: modified.slice(' Modified flow: '.length) };
  return rec;
}

/** One line of a pass's tree: a bridge header, a table (hit or miss), or an action/detail of the open hit. */
function treeLine(
  pass: TracePass,
  passIndex: number,
  line: string,
  lineIndex: number,
  stack: OpenStep[],
  bridges: OpenBridge[],
): void {
  const bridge = BRIDGE_LINE.exec(line);
  if (bridge) {
    bridges.push({ name: bridge[2]!, minIndent: undefined });
    return;
  }
  if (DASHES.test(line)) return;
  const table = TABLE_LINE.exec(line);
  if (table) {
    const digits = table[2]!;
    // "%2d. ": a one-digit table number carries one space of padding.
    const indent = Math.max(0, table[1]!.length - (digits.length === 1 ? 1 : 0));
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (indent <= top.indent || (top.contentIndent !== undefined && top.contentIndent > indent)) stack.pop();
      else break;
    }
    while (bridges.length > 1) {
      const top = bridges[bridges.length - 1]!;
      if (top.minIndent !== undefined && indent < top.minIndent) bridges.pop();
      else break;
    }
    const b = bridges[bridges.length - 1];
    if (b && b.minIndent === undefined) b.minIndent = indent;
    const step = tableStep(table[3]!, Number(digits), indent, passIndex, b?.name ?? '', lineIndex);
    pass.steps.push(step);
    stack.push({ step, indent, contentIndent: undefined });
    return;
  }
  const trimmed = line.trim();
  const lead = line.length - line.trimStart().length;
  const kind = trimmed.startsWith('-> ')
    ? 'note'
    : trimmed.startsWith('>>>> ') || trimmed.startsWith('>> ')
      ? 'warning'
      : 'action';
  // " -> ", " >> " and " >>>> " carry one space before the marker.
  const indent = kind === 'action' ? lead : Math.max(0, lead - 1);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (indent <= top.indent || (top.contentIndent !== undefined && top.contentIndent > indent)) stack.pop();
    else break;
  }
  const open = stack[stack.length - 1];
  if (!open) {
    // Before any table of the pass: OVS's "thaw" / "Resuming from table N" of a recirculation.
    pass.notes.push(trimmed);
    const resumed = /^Resuming from table (\d+)$/.exec(trimmed);
    if (resumed && 'resumedAt' in pass) (pass as TraceRecirculation).resumedAt = Number(resumed[1]);
    return;
  }
  if (open.contentIndent === undefined) open.contentIndent = indent;
  if (kind === 'note') open.step.notes.push(trimmed.slice(3));
  else if (kind === 'warning') open.step.warnings.push(trimmed.replace(/^>{2,4} /, '').replace(/ <<<<$/, ''));
  else open.step.actions.push(trimmed);
}

function tableStep(text: string, table: number, indent: number, pass: number, bridge: string, line: number): TraceStep {
  const step: TraceStep = {
    pass,
    bridge,
    table,
    match: '',
    priority: null,
    cookie: null,
    actions: [],
    notes: [],
    warnings: [],
    depth: Math.floor(indent / 4),
    noMatch: false,
    text,
    line,
  };
  const hit = text.startsWith('No match') || text.startsWith('Packets are IP fragments') ? null : HIT.exec(text);
  if (!hit) {
    step.noMatch = true;
    return step;
  }
  step.match = hit[1]!;
  step.priority = Number(hit[2]);
  step.cookie = hit[3] ? BigInt(hit[3]) : 0n;
  return step;
}

/** Splits at commas outside parentheses: `ct(zone=5),recirc(0x1)` → [`ct(zone=5)`, `recirc(0x1)`]. */
export function splitDatapathActions(actions: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < actions.length; i++) {
    const c = actions[i];
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (c === ',' && depth === 0) {
      out.push(actions.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = actions.slice(start).trim();
  if (last !== '' || out.length > 0) out.push(last);
  return out.filter((a) => a !== '');
}

function setDatapathActions(pass: TracePass, actions: string): void {
  pass.datapathActions = actions;
  pass.datapathActionList = splitDatapathActions(actions);
  pass.dropped = actions === '' || actions === 'drop';
  walkActions(pass, pass.datapathActionList);
}

function walkActions(pass: TracePass, actions: string[]): void {
  for (const a of actions) {
    if (/^\d+$/.test(a)) pass.outputs.push(Number(a));
    else if (a.startsWith('clone(') && a.endsWith(')')) walkActions(pass, splitDatapathActions(a.slice(6, -1)));
    else if (a.startsWith('tnl_push(')) {
      const t = tnlPushTunnel(a);
      if (t) pass.tunnels.push(t);
    } else if (a.startsWith('set(tunnel(')) {
      const t = setTunnel(a);
      if (t) pass.tunnels.push(t);
    } else if (a.startsWith('userspace(') && a.includes('controller(')) pass.toController = true;
    else {
      const r = /^recirc\((0x[0-9a-fA-F]+|\d+)\)$/.exec(a);
      if (r) pass.recirculates.push(Number(r[1]));
    }
  }
}

const TUNNEL_HEADERS = ['vxlan', 'geneve', 'erspan', 'gtpu', 'srv6', 'gre'] as const;

function num(s: string | undefined): number | null {
  if (s === undefined) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

/** `tnl_push(tnl_port(3),header(…,ipv4(src=A,dst=B,…),gre((…),key=0x1234)),out_port(6))`. */
function tnlPushTunnel(action: string): TraceTunnel | null {
  const ip = /\bipv[46]\(src=([^,)]+),dst=([^,)]+)/.exec(action);
  if (!ip) return null;
  const type = TUNNEL_HEADERS.find((t) => action.includes(`,${t}(`)) ?? 'unknown';
  const key = /\b(?:key|vni)=(0x[0-9a-fA-F]+|\d+)/.exec(action);
  return {
    src: ip[1]!,
    dst: ip[2]!,
    key: num(key?.[1]),
    type,
    via: 'tnl_push',
    tunnelPort: num(/^tnl_push\(tnl_port\((\d+)\)/.exec(action)?.[1]),
    outPort: num(/\bout_port\((\d+)\)\)?$/.exec(action)?.[1]),
    action,
  };
}

const UDP_TUNNELS: Record<number, string> = { 4789: 'vxlan', 6081: 'geneve', 2152: 'gtpu', 7471: 'stt' };

/** `set(tunnel(tun_id=0x5,src=2.2.2.2,dst=1.1.1.1,ttl=64,tp_dst=4789,flags(df|key)))`. */
function setTunnel(action: string): TraceTunnel | null {
  const field = (name: string) => new RegExp(`[(,]${name}=([^,)]+)`).exec(action)?.[1];
  const dst = field('dst') ?? field('ipv6_dst');
  if (dst === undefined) return null;
  const tpDst = num(field('tp_dst'));
  const type = action.includes('geneve(')
    ? 'geneve'
    : action.includes('erspan(')
      ? 'erspan'
      : tpDst !== null
        ? (UDP_TUNNELS[tpDst] ?? 'unknown')
        : 'gre';
  return {
    src: field('src') ?? field('ipv6_src') ?? null,
    dst,
    key: num(field('tun_id')),
    type,
    via: 'set',
    tunnelPort: null,
    outPort: null,
    action,
  };
}

function summarize(passes: TracePass[]): OfprotoTrace {
  const first = passes[0]!;
  const tunnels = passes.flatMap((p) => p.tunnels);
  const outputs = passes.flatMap((p) => p.outputs);
  const toController = passes.some((p) => p.toController);
  return {
    flow: first.flow,
    steps: passes.flatMap((p) => p.steps),
    finalFlow: first.finalFlow,
    megaflow: first.megaflow,
    datapathActions: first.datapathActions,
    translationError: first.translationError,
    passes,
    recirculations: passes.slice(1) as TraceRecirculation[],
    dropped: outputs.length === 0 && tunnels.length === 0 && !toController,
    tunnel: tunnels[0] ?? null,
    tunnels,
    outputs,
    toController,
  };
}

export interface OfprotoTraceOptions {
  /** `--ct-next` states, one per conntrack recirculation in order, e.g. `['trk,est']`; OVS's default is `trk,new`. */
  ctNext?: string[];
  timeoutMs?: number;
}

/**
 * Asks ovs-vswitchd (at `socketPath`, its unixctl socket) to trace `flow` (OpenFlow syntax, e.g.
 * `in_port=1,tcp,nw_dst=10.0.0.2`) through `bridge`. Options go before the bridge, each `--ct-next` and its
 * state as two parameters, as `ovs-appctl ofproto/trace --ct-next trk,est br0 <flow>` sends them.
 * Throws UnixctlError (`rpc` with OVS's message for a flow it cannot parse or an unknown bridge).
 */
export async function ofprotoTrace(
  socketPath: string,
  bridge: string,
  flow: string,
  opts: OfprotoTraceOptions = {},
): Promise<{ text: string; trace: OfprotoTrace }> {
  const params: string[] = [];
  for (const state of opts.ctNext ?? []) params.push('--ct-next', state);
  params.push(bridge, flow);
  const text = await unixctlCall(socketPath, 'ofproto/trace', params, { timeoutMs: opts.timeoutMs });
  return { text, trace: parseOfprotoTrace(text) };
}
