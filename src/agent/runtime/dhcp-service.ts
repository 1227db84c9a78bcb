// The agent's DHCP service: builds the DhcpContext for a request from the mirrored model and lets
// the DhcpResponder (src/dhcp) answer it; the runtime sends the reply back out the VM's port.
import { clientMacOf, DhcpResponder, type DhcpResources, dhcpContextFrom } from '../../dhcp/index.js';
import type { DhcpHandler } from './deps.js';
import type { ResourceMirror } from './mirror.js';

export class DhcpService implements DhcpHandler {
  readonly responder = new DhcpResponder();

  constructor(private readonly mirror: ResourceMirror) {}

  handle(
    frame: Uint8Array,
    networkUuid: string,
    local: { encap: 'gre' | 'vxlan'; underlayMtu: number },
  ): { reply?: Uint8Array; event: string; reason?: string } {
    const mac = clientMacOf(frame);
    if (!mac) {
      this.responder.counters.malformed++;
      return { event: 'malformed', reason: 'frame shorter than an Ethernet header' };
    }
    const resources = {
      networks: this.mirror.all('networks'),
      interfaces: this.mirror.all('interfaces'),
      mac_leases: this.mirror.all('mac_leases'),
      ip_leases: this.mirror.all('ip_leases'),
      network_services: this.mirror.all('network_services'),
      routes: this.mirror.all('routes'),
    } as unknown as DhcpResources;
    const ctx = dhcpContextFrom(resources, networkUuid, mac, {
      encapsulation: local.encap,
      underlayMtu: local.underlayMtu,
    });
    if (!ctx) {
      this.responder.counters.ignored++;
      return { event: 'ignored', reason: `network ${networkUuid} has no DHCP service` };
    }
    return this.responder.handle(frame, ctx);
  }
}
