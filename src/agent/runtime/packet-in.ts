// Packet-ins: the pipeline punts DHCP requests (see isDhcpPunt) and DNS queries (isDnsPunt) to the agent, and
// frames from an uplink too big for a virtual network (isTooBigPunt); this answers each with a packet-out on the
// port it came from — a DHCP reply through the DHCP service, a DNS answer through the DNS service (later, when it
// was relayed upstream), ICMP "fragmentation needed" — and counts what happened. Others are logged.
import { OFPP } from '../../openflow/types.js';
import type { Logger } from '../../util/log.js';
import { fragNeededFrame } from '../../packet/index.js';
import {
  type Binding,
  describeCookie,
  isDhcpPunt,
  isDnsPunt,
  isTooBigPunt,
  packetOutTo,
  virtualMtu,
} from '../pipeline/index.js';
import type { DhcpHandler, DhcpHostSettings, DnsHandler, PacketInEvent, SwitchLink } from './deps.js';
import { errText } from './errors.js';

/** The services answered from packet-ins, and how their log lines name what they handle. */
type Service = 'dhcp' | 'dns';
const WORDS = {
  dhcp: { request: 'DHCP request', reply: 'DHCP reply', dropped: 'DHCP packet dropped' },
  dns: { request: 'DNS query', reply: 'DNS answer', dropped: 'DNS query dropped' },
} as const satisfies Record<Service, { request: string; reply: string; dropped: string }>;

/** What a service (DhcpHandler, DnsHandler) made of one request. */
type ServiceResult = { reply?: Uint8Array; event: string; reason?: string };

export class PacketInHandler {
  readonly counters = {
    packetIns: 0,
    dhcpReplies: 0,
    dhcpDropped: 0,
    dnsReplies: 0,
    dnsDropped: 0,
    fragNeededSent: 0,
    tooBigDropped: 0,
  };
  /** Packet-ins by what the pipeline punted them for (their cookie): DHCP, DNS, too-big frames, anything else. */
  readonly byKind = { dhcp: 0, dns: 0, too_big: 0, other: 0 };
  /** DNS queries by what the service made of them (answered, nodata, refused, forwarded, upstream_failed, ...). */
  readonly dnsEvents: Record<string, number> = {};
  /** DHCP requests by what the responder made of them (offer, ack, nak, release, malformed, ignored, ...). */
  readonly dhcpEvents: Record<string, number> = {};

  constructor(
    private readonly dhcp: DhcpHandler | undefined,
    private readonly local: DhcpHostSettings,
    private readonly log: Logger,
    private readonly dns?: DnsHandler | undefined,
  ) {}

  /** `bound`: the current bindings (the request's port names its interface and network); null: no datapath yet. */
  handle(link: SwitchLink, ev: PacketInEvent, bound: readonly Binding[] | null): void {
    this.counters.packetIns++;
    if (isTooBigPunt(ev.cookie)) {
      this.byKind.too_big++;
      this.tooBig(link, ev);
      return;
    }
    if (isDnsPunt(ev.cookie)) {
      this.byKind.dns++;
      this.dnsQuery(link, ev, bound);
      return;
    }
    this.byKind[isDhcpPunt(ev.cookie) ? 'dhcp' : 'other']++;
    if (!isDhcpPunt(ev.cookie) || !this.dhcp || bound === null) {
      this.log.debug(
        { table: ev.table, cookie: describeCookie(ev.cookie).text, inPort: ev.inPort },
        'packet-in not handled',
      );
      return;
    }
    const b = bound.find((x) => x.ofport === ev.inPort);
    const networkUuid = b?.networkUuid ?? null;
    if (!b || !networkUuid) {
      this.counters.dhcpDropped++;
      this.log.debug({ inPort: ev.inPort }, 'DHCP request from a port with no bound interface in a network; dropped');
      return;
    }
    let result: ServiceResult;
    try {
      result = this.dhcp.handle(ev.data, networkUuid, this.local);
    } catch (err) {
      this.unreadable('dhcp', b, err);
      return;
    }
    this.answer('dhcp', link, b, result)?.catch((err: unknown) => {
      this.log.warn({ err: errText(err) }, 'DHCP packet-out failed');
    });
  }

  /** A DNS query from a VM: answered by the DNS service of the port's network, now or once upstream answered. */
  private dnsQuery(link: SwitchLink, ev: PacketInEvent, bound: readonly Binding[] | null): void {
    const b = bound?.find((x) => x.ofport === ev.inPort);
    if (!this.dns || !b?.networkUuid) {
      this.counters.dnsDropped++;
      this.log.debug({ inPort: ev.inPort }, 'DNS query from a port with no bound interface in a network; dropped');
      return;
    }
    const dns = this.dns;
    const networkUuid = b.networkUuid;
    void (async () => {
      let result: ServiceResult;
      try {
        result = await dns.handle(ev.data, networkUuid);
      } catch (err) {
        this.unreadable('dns', b, err);
        return;
      }
      await this.answer('dns', link, b, result);
    })().catch((err: unknown) => {
      this.log.warn({ err: errText(err) }, 'DNS packet-out failed');
    });
  }

  /** A request its service threw on: counted as dropped (malformed bytes must never take the agent down). */
  private unreadable(service: Service, b: Binding, err: unknown): void {
    this.counters[`${service}Dropped` as const]++;
    this.log.debug({ err: errText(err), interface: b.interfaceUuid }, WORDS[service].dropped);
  }

  /**
   * What a service made of a request, counted by event; its reply goes back out of the port the request came in
   * on (the packet-out returned), or, with none, it is counted as not answered (null returned).
   */
  private answer(service: Service, link: SwitchLink, b: Binding, result: ServiceResult) {
    const events = service === 'dhcp' ? this.dhcpEvents : this.dnsEvents;
    events[result.event] = (events[result.event] ?? 0) + 1;
    if (!result.reply) {
      this.counters[`${service}Dropped` as const]++;
      this.log.debug(
        { interface: b.interfaceUuid, event: result.event, reason: result.reason },
        `${WORDS[service].request} not answered`,
      );
      return null;
    }
    this.counters[`${service}Replies` as const]++;
    // Per packet at debug only: a flooding VM must not flood the log too. The counters (status(), SIGUSR2) say
    // how many of each happened.
    this.log.debug(
      { interface: b.interfaceUuid, port: b.portName, event: result.event, reason: result.reason },
      `${WORDS[service].reply} sent`,
    );
    // To the port the request came from (b was found by it); a sub-interface's is its trunk, tagged.
    return link.packetOut({ inPort: OFPP.CONTROLLER, ...packetOutTo(b, result.reply) });
  }

  /**
   * A frame from an uplink too big for a virtual network: ICMP "fragmentation needed" with the virtual MTU back
   * out of the uplink, so the sender's path MTU discovery shrinks its packets. Without DF (it would have to be
   * fragmented; vnet cannot) or when the frame is no IPv4 it may answer, it is dropped and counted.
   */
  private tooBig(link: SwitchLink, ev: PacketInEvent): void {
    let reply: Uint8Array | null;
    try {
      reply = fragNeededFrame(ev.data, virtualMtu(this.local));
    } catch (err) {
      reply = null;
      this.log.debug({ err: errText(err) }, 'malformed too-big frame');
    }
    if (!reply) {
      this.counters.tooBigDropped++;
      return;
    }
    this.counters.fragNeededSent++;
    link.packetOut({ inPort: OFPP.CONTROLLER, outPort: ev.inPort, data: reply }).catch((err: unknown) => {
      this.log.warn({ err: errText(err) }, 'ICMP fragmentation-needed packet-out failed');
    });
  }
}
