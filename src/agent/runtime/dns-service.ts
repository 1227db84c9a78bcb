// The agent's DNS service: finds, in the agent's model, the DNS service a VM's query reached (a `dns` network
// service on a simulated interface with that address in the VM's network, and its dns_services row) and lets the
// DnsResponder (src/dns) answer it. Records are read at each query from the current model, so a record added or
// deleted through the feed is answered, or no longer, from the next query on.
import { leasesOf } from '../../dhcp/index.js';
import {
  type DnsForwarder,
  DnsResponder,
  type DnsServiceContext,
  type DnsTarget,
  recordIndex,
} from '../../dns/index.js';
import { ipToInt } from '../../model/ipv4.js';
import type { DnsService as DnsServiceItem } from '../../model/types.js';
import { normalizeMac } from '../../packet/index.js';
import { itemsOf, type ModelView } from '../pipeline/index.js';
import { modelDhcpView } from './dhcp-service.js';
import type { DnsHandler } from './deps.js';

export class DnsService implements DnsHandler {
  readonly responder: DnsResponder;
  /** Each dns_services item's records as a lookup map; a change replaces the item, so its map goes with it. */
  private readonly indices = new WeakMap<DnsServiceItem, Map<string, string[]>>();

  /** `model` returns the agent's current view (null before the first snapshot). */
  constructor(
    private readonly model: () => ModelView | null,
    forwarder: Pick<DnsForwarder, 'exchange'> | null,
    maxIpBytes?: number,
  ) {
    this.responder = new DnsResponder(forwarder, maxIpBytes);
  }

  handle(frame: Uint8Array, networkUuid: string): Promise<{ reply?: Uint8Array; event: string; reason?: string }> {
    return this.responder.handle(frame, (dstIp) => this.target(networkUuid, dstIp));
  }

  handleTcp(query: Uint8Array, networkUuid: string): Promise<{ reply?: Uint8Array; event: string; reason?: string }> {
    return this.responder.handlePayload(query, this.target(networkUuid, null));
  }

  /**
   * The DNS service at `dstIp` in the network, or null; `dstIp` null: the one at the network's lowest service
   * address (where the switch steers DNS over TCP: pipeline/metadata.ts dnsTcpFlows).
   */
  private target(networkUuid: string, dstIp: string | null): DnsTarget | null {
    const view = this.model();
    if (!view) return null;
    const dhcpView = modelDhcpView(view);
    let best: { service: string; ip: string; mac: string } | null = null;
    for (const s of itemsOf(view.networkServices, view.servicesByMode.get('dns'))) {
      const iface = s.interface_uuid ? view.interfaces.get(s.interface_uuid) : undefined;
      if (iface?.mode !== 'simulated') continue;
      for (const lease of leasesOf(dhcpView, iface)) {
        if (lease.networkUuid !== networkUuid || (dstIp !== null && lease.ip !== dstIp)) continue;
        const mac = lease.mac ?? (iface.mac_address ? normalizeMac(iface.mac_address) : null);
        if (!mac) continue;
        if (dstIp !== null)
          return { ctx: this.context(view, s.uuid, networkUuid), ipv4Address: dstIp, macAddress: mac };
        if (!best || ipToInt(lease.ip) < ipToInt(best.ip)) best = { service: s.uuid, ip: lease.ip, mac };
      }
    }
    return best && { ctx: this.context(view, best.service, networkUuid), ipv4Address: best.ip, macAddress: best.mac };
  }

  private context(view: ModelView, networkServiceUuid: string, networkUuid: string): DnsServiceContext {
    let row: DnsServiceItem | undefined;
    for (const d of view.dnsServices.values())
      if (d.network_service_uuid === networkServiceUuid) {
        row = d;
        break;
      }
    const domain = view.networks.get(networkUuid)?.domain_name ?? null;
    if (!row) return { serviceUuid: null, records: new Map(), publicDns: [], domain };
    let records = this.indices.get(row);
    if (!records) {
      records = recordIndex(row.dns_records ?? []);
      this.indices.set(row, records);
    }
    const publicDns = (row.public_dns ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== '');
    return { serviceUuid: row.uuid, records, publicDns, domain };
  }
}
