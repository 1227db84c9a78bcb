// What the agent tells the server: its datapath's health and its interfaces' bindings. Each is compared with what
// the model shows the server holds, and only a difference goes to the Reporter (its queue sends and retries).
import type { Logger } from '../../util/log.js';
import { formatDpid } from '../../model/params.js';
import {
  type Binding,
  datapathByDpid,
  datapathsOfNode,
  isUplink,
  type LocalContext,
  type ModelView,
  tunnelAddress,
} from '../pipeline/index.js';
import type { AgentConfig } from './options.js';
import type { DatapathStatusReport, Reporter } from './reporter.js';

/** The agent's health as the datapath status report carries it. */
export interface Health {
  switchConnected: boolean;
  flowsInSync: boolean;
  lastError: string | null;
}

export class StatusReports {
  constructor(
    private readonly cfg: AgentConfig,
    private readonly reporter: Reporter,
    private readonly log: Logger,
  ) {}

  /** Problems with this host's registration, for status() and last_error. */
  warnings(view: ModelView | null, dpid: bigint | null): string[] {
    const out: string[] = [];
    const dp = view && dpid !== null ? datapathByDpid(view, dpid) : undefined;
    if (dp?.node_id && dp.node_id !== this.cfg.nodeId)
      out.push(`warning: datapath node_id '${dp.node_id}' differs from this agent's node id '${this.cfg.nodeId}'`);
    if (dp && view && !this.cfg.tunnelIp && !tunnelAddress(view, dp))
      out.push(
        'warning: no tunnel IP (--tunnel-ip, the datapath ipv4_address or a host interface address): serving local traffic only',
      );
    return out;
  }

  /** Our datapath's health, unless the server already shows exactly that. */
  datapathStatus(view: ModelView, dpUuid: string, dpid: bigint, health: Health): void {
    const problems = [...(health.lastError ? [health.lastError] : []), ...this.warnings(view, dpid)];
    const body: DatapathStatusReport = {
      is_connected: health.switchConnected,
      flows_in_sync: health.flowsInSync,
      last_error: problems.length > 0 ? problems.join('; ') : null,
      reported_node_id: this.cfg.nodeId,
    };
    if (this.cfg.tunnelIp) body.ipv4_address = this.cfg.tunnelIp;
    body.encap = this.cfg.encap;
    const shown = datapathByDpid(view, dpid);
    const same =
      shown &&
      shown.is_connected === body.is_connected &&
      shown.flows_in_sync === body.flows_in_sync &&
      (shown.last_error ?? null) === body.last_error &&
      shown.reported_node_id === body.reported_node_id &&
      (body.ipv4_address === undefined || shown.ipv4_address === body.ipv4_address) &&
      // A server without the encap field never shows it: do not keep asking for it.
      (shown.encap === undefined || shown.encap === body.encap);
    if (!same) this.reporter.datapathStatus(dpUuid, body);
  }

  /**
   * Bindings of datapath `me`: up where bound here, down where the server shows ours but the port is gone. An
   * uplink bound here whose port has no carrier is down too (still bound): gateway candidates read it, so a
   * gateway whose uplink was cut hands over.
   */
  bindings(view: ModelView, me: string, bound: readonly Binding[], ports: LocalContext['ports']): void {
    const boundNow = new Set(bound.map((b) => b.interfaceUuid));
    for (const b of bound) {
      const shown = view.interfaces.get(b.interfaceUuid);
      const status = shown && isUplink(shown) && ports.get(b.portName)?.linkUp === false ? 'down' : 'up';
      if (shown?.status === status && shown.active_datapath_uuid === me && shown.active_port_name === b.portName)
        continue;
      this.log.info({ interface: b.interfaceUuid, port: b.portName, ofport: b.ofport, status }, 'interface bound');
      this.reporter.binding(b.interfaceUuid, { status, active_datapath_uuid: me, active_port_name: b.portName });
    }
    // Unbind only what the server shows as ours: another host may already have taken it over.
    for (const itf of view.interfaces.values()) {
      if (itf.active_datapath_uuid !== me || boundNow.has(itf.uuid)) continue;
      this.log.info({ interface: itf.uuid, port: itf.active_port_name }, 'interface unbound (port gone)');
      this.reporter.binding(itf.uuid, { status: 'down', active_datapath_uuid: null, active_port_name: null });
    }
  }

  /**
   * Where translations are active: here for those in `active` (their floating addresses, or their gateway
   * address, announced by this host), and no longer here for those the server shows here that are not (their
   * VM left, the gateway moved; another host may already have reported them, which is then left alone).
   */
  translations(view: ModelView, me: string, active: ReadonlySet<string>): void {
    for (const t of view.translations.values()) {
      const shown = t.active_datapath_uuid ?? null;
      if (active.has(t.uuid)) {
        if (shown !== me) this.reporter.translationStatus(t.uuid, { active_datapath_uuid: me });
      } else if (shown === me) this.reporter.translationStatus(t.uuid, { active_datapath_uuid: null });
    }
  }

  /** Without our datapath identified, tell the datapath registered for this node why it is idle. */
  whileUnidentified(view: ModelView, dpid: bigint | null): void {
    const mine = datapathsOfNode(view, this.cfg.nodeId);
    if (mine.length !== 1) return;
    const dp = mine[0]!;
    const why =
      dpid === null
        ? `waiting for bridge ${this.cfg.bridge} to exist`
        : `bridge ${this.cfg.bridge} has dpid ${formatDpid(dpid)}, not this datapath's ${dp.dpid}`;
    this.reporter.datapathStatus(dp.uuid, {
      is_connected: false,
      flows_in_sync: false,
      last_error: why,
      reported_node_id: this.cfg.nodeId,
    });
  }
}
