// The agent's DHCP service: derives a request's DhcpContext from the agent's model (its ModelView, read through
// the DhcpView lookups its indices serve) and lets the DhcpResponder (src/dhcp) answer it; the runtime sends the
// reply back out the VM's port.
import { clientMacOf, DhcpResponder, type DhcpView, dhcpContext } from '../../dhcp/index.js';
import { itemsOf, type ModelView, prefixesOfNetwork } from '../pipeline/index.js';
import type { DhcpHandler, DhcpHostSettings } from './deps.js';

/** DHCP's lookups over the agent's model: each one reads an index, none scans every interface. */
export function modelDhcpView(view: ModelView): DhcpView {
  return {
    network: (uuid) => view.networks.get(uuid),
    interface: (uuid) => view.interfaces.get(uuid),
    interfaceByMac: (mac) => itemsOf(view.interfaces, view.interfacesByMac.get(mac))[0],
    macLeasesOf: (uuid) => itemsOf(view.macLeases, view.macLeasesByInterface.get(uuid)),
    ipLeasesOf: (uuid) => itemsOf(view.ipLeases, view.ipLeasesByInterface.get(uuid)),
    services: (mode) => itemsOf(view.networkServices, view.servicesByMode.get(mode)),
    routesIn: (nw) => itemsOf(view.routes, view.routesByNetwork.get(nw)),
    routesOn: (rl) => itemsOf(view.routes, view.routesByLink.get(rl)),
    routingInterfaces: () => itemsOf(view.interfaces, view.routingSimulated),
    prefixes: (network) => prefixesOfNetwork(view, network),
  };
}

export class DhcpService implements DhcpHandler {
  readonly responder = new DhcpResponder();
  /** The lookups of the current view (a snapshot replaces the view). */
  private reader: { view: ModelView; dhcp: DhcpView } | null = null;

  /** `model` returns the agent's current view (null before the first snapshot). */
  constructor(private readonly model: () => ModelView | null) {}

  handle(
    frame: Uint8Array,
    networkUuid: string,
    local: DhcpHostSettings,
  ): { reply?: Uint8Array; event: string; reason?: string } {
    const mac = clientMacOf(frame);
    if (!mac) {
      this.responder.counters.malformed++;
      return { event: 'malformed', reason: 'frame shorter than an Ethernet header' };
    }
    const view = this.model();
    if (view && this.reader?.view !== view) this.reader = { view, dhcp: modelDhcpView(view) };
    const ctx =
      view && this.reader
        ? dhcpContext(this.reader.dhcp, networkUuid, mac, {
            encapsulation: local.encap,
            underlayMtu: local.underlayMtu,
            metadataIp: local.metadataIp ?? null,
          })
        : null;
    if (!ctx) {
      this.responder.counters.ignored++;
      return { event: 'ignored', reason: `network ${networkUuid} has no DHCP service` };
    }
    return this.responder.handle(frame, ctx);
  }
}
