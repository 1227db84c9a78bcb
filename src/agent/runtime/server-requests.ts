// Requests of the server's, sent down the agent's feed stream (traces): each is answered to the server with a
// result or the error that stopped it. This host's part of a trace: the switch traces the packet (ovs-vswitchd's
// ofproto/trace) and its flows are read in the model's terms (agent/trace/hop.ts).
import type { TraceAsk, TraceHop } from '../../model/trace.js';
import type { Logger } from '../../util/log.js';
import type { Binding, ModelView } from '../pipeline/index.js';
import { type HopContext, hopOf, natCtNext, TraceRefused, traceFlow } from '../trace/hop.js';
import type { AgentPhase } from './agent-status.js';
import type { ApiLike, BridgeControl, VswitchControl } from './deps.js';
import { errText } from './errors.js';
import type { HostPorts } from './host-ports.js';
import type { AgentConfig } from './options.js';

/** What a trace needs of the agent at the moment it is asked. */
export interface TracedState {
  phase: AgentPhase;
  view: ModelView | null;
  datapathUuid: string | null;
  bound: Binding[];
}

export class ServerRequests {
  constructor(
    private readonly deps: {
      config: AgentConfig;
      log: Logger;
      api: ApiLike;
      bridge: BridgeControl;
      vswitch?: VswitchControl | undefined;
    },
    private readonly hostPorts: HostPorts,
    private readonly state: () => TracedState,
  ) {}

  /** Answers a request of the server's: a result, or the error that stopped it (the caller waits for either). */
  async answer(req: { id: string; kind: string; body: unknown }): Promise<void> {
    let answer: { result: string } | { error: string };
    try {
      if (req.kind !== 'trace') throw new TraceRefused(`this agent does not know requests of kind ${req.kind}`);
      answer = { result: JSON.stringify(await this.traceHop(req.body as TraceAsk)) };
    } catch (err) {
      answer = { error: errText(err) };
    }
    this.deps.log.info(
      { request: req.id, kind: req.kind, error: 'error' in answer ? answer.error : undefined },
      'request answered',
    );
    try {
      await this.deps.api.answerRequest(req.id, answer);
    } catch (err) {
      this.deps.log.warn({ request: req.id, err: errText(err) }, 'could not answer the server');
    }
  }

  /** This host's part of a trace: the switch traces the packet; its flows are read in the model's terms. */
  private async traceHop(ask: TraceAsk): Promise<TraceHop> {
    const { config: cfg, vswitch } = this.deps;
    if (!vswitch)
      throw new TraceRefused('no ovs-vswitchd control socket: give the agent --vswitchd-ctl (or a unix: --ovsdb)');
    const { phase, view, datapathUuid, bound } = this.state();
    if (!view || datapathUuid === null) throw new TraceRefused(`the agent is ${phase}, not running`);
    if (ask.datapath_uuid !== datapathUuid)
      throw new TraceRefused(`this agent drives ${datapathUuid}, not ${ask.datapath_uuid}`);
    const ctx: HopContext = {
      bridge: cfg.bridge,
      datapathUuid,
      nodeId: cfg.nodeId,
      ports: this.deps.bridge.interfaces(cfg.bridge),
      tunnelPorts: this.hostPorts.tunnelPorts,
      bound,
      view,
    };
    const flow = traceFlow(ask, ctx);
    let { trace } = await vswitch.trace(cfg.bridge, flow, ask.ct_next);
    // Again with the +snat/+dnat conntrack would have set on a NATed resume (ofproto/trace does not: natCtNext).
    for (let i = 0, next = natCtNext(trace); next && i < 4; i++, next = natCtNext(trace))
      ({ trace } = await vswitch.trace(cfg.bridge, flow, next));
    return hopOf(trace, ask, ctx);
  }
}
