// The DHCP responder: turns a DHCP request frame (from an OpenFlow packet-in) into a reply frame for packet-out.
import {
  BOOTP_BROADCAST,
  BOOTP_OP,
  BROADCAST_MAC,
  buildUdpFrame,
  type ClasslessRoute,
  classlessRoutesOption,
  DHCP_PORT,
  DHCP_INFINITE_LEASE,
  DHCP_MESSAGE_TYPE_NAMES,
  DHCP_MIN_MAX_MESSAGE_SIZE,
  DHCP_MESSAGE_TYPE,
  type DhcpMessage,
  dhcpMessageType,
  type DhcpOption,
  DHO,
  decodeDhcp,
  decodeFrame,
  type decodeUdpFrame,
  encodeDhcp,
  ETH_HLEN,
  formatMac,
  getOption,
  ARPHRD_ETHER,
  intToIpv4,
  ipv4ListOption,
  ipv4ToInt,
  isIpv4,
  isPacketError,
  MAX_VLAN_TAGS,
  normalizeMac,
  PacketValueError,
  prefixToMask,
  readIpv4Option,
  readUintOption,
  stringOption,
  u16Option,
  u32Option,
  u8Option,
  VLAN_HLEN,
} from '../packet/index.js';
import { type Encapsulation, interfaceMtu } from './mtu.js';

/** What the agent knows about the network a request arrived in; see docs/dhcp.md and dhcpContextFrom(). */
export interface DhcpContext {
  network: {
    uuid: string;
    /** Network address and prefix length, e.g. "10.0.0.0" / 24. */
    ipv4Network: string;
    ipv4Prefix: number;
    domainName: string | null;
    /** The network's own MTU; null → underlay MTU minus encapsulation overhead. */
    mtu: number | null;
    /** The network's dns_servers, parsed; empty when unset. */
    dnsServers: string[];
    /** dhcp_lease_time in seconds (0xffffffff = infinite). */
    leaseTime: number;
  };
  /** The interface that owns the requesting MAC, or null when no interface has it. */
  client: { interfaceUuid: string; macAddress: string; ipv4Address: string | null } | null;
  /** The simulated interface carrying the network's `dhcp` network service. */
  server: { interfaceUuid?: string; ipv4Address: string; macAddress: string };
  /** The network's router interface (on a route link), or null. */
  router: { ipv4Address: string } | null;
  /** Other networks reachable through the router; `router` defaults to ctx.router. */
  routes: { ipv4Network: string; ipv4Prefix: number; router?: string }[];
  /** The network's host_routes (Neutron's subnet host routes), as given: nexthops are in the network. */
  hostRoutes?: ClasslessRoute[];
  /** The metadata address this host serves (169.254.169.254), or null/absent when it serves none. */
  metadataIp?: string | null;
  /** Address of a `dns` network service in the network, used when dnsServers is empty. */
  dnsService: string | null;
  encapsulation: Encapsulation;
  /** IP MTU of the underlay the tunnels run over (the agent's --underlay-mtu). */
  underlayMtu: number;
}

export type DhcpEvent = 'offer' | 'ack' | 'nak' | 'release' | 'decline' | 'inform' | 'ignored' | 'malformed';

export interface DhcpResult {
  /** The reply frame to send out of the port the request came from. */
  reply?: Uint8Array;
  event: DhcpEvent;
  /** Why a request was ignored, malformed, NAKed, declined... (for logs; not stable text). */
  reason?: string;
  /** Transaction id and client MAC of a decodable request, for logs. */
  xid?: number;
  clientMac?: string;
  /** The address offered/acked. */
  yiaddr?: string;
}

export interface DhcpResponderOptions {
  /** Frames longer than this are counted as malformed and dropped (default 1522: 1500 + Ethernet + 2 tags). */
  maxFrameBytes?: number;
  /** IPv4 TTL of replies (default 64). */
  ttl?: number;
  /**
   * Reject requests whose UDP checksum is wrong (default false). A client renewing by unicast
   * sends through its kernel's UDP socket; with checksum offload on its veth/tap the frame OVS
   * hands us still holds the partial (pseudo-header) sum, so checking would drop every renewal.
   * ISC dhcpd tolerates bad UDP checksums for the same reason. The IPv4 header checksum, which
   * is never offloaded, is always checked.
   */
  verifyUdpChecksum?: boolean;
}

export type DhcpCounters = Record<DhcpEvent, number>;

export const DEFAULT_MAX_FRAME_BYTES = 1500 + ETH_HLEN + MAX_VLAN_TAGS * VLAN_HLEN;

const ZERO = '0.0.0.0';
const LIMITED_BROADCAST = '255.255.255.255';

/**
 * Stateless DHCP server for one agent: every answer comes from the model (the interface's IP
 * lease), so nothing is allocated or remembered; RELEASE and DECLINE are reported, not stored.
 */
export class DhcpResponder {
  readonly counters: DhcpCounters = {
    offer: 0,
    ack: 0,
    nak: 0,
    release: 0,
    decline: 0,
    inform: 0,
    ignored: 0,
    malformed: 0,
  };
  private readonly maxFrameBytes: number;
  private readonly ttl: number;
  private readonly verifyUdpChecksum: boolean;
  private ipId = 0;

  constructor(opts: DhcpResponderOptions = {}) {
    this.maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.ttl = opts.ttl ?? 64;
    this.verifyUdpChecksum = opts.verifyUdpChecksum ?? false;
  }

  /** Handles one frame; never throws for bad input (malformed bytes give event 'malformed'). */
  handle(frame: Uint8Array, ctx: DhcpContext): DhcpResult {
    const r = this.handleInner(frame, ctx);
    this.counters[r.event]++;
    return r;
  }

  private handleInner(frame: Uint8Array, ctx: DhcpContext): DhcpResult {
    if (frame.length > this.maxFrameBytes) {
      return { event: 'malformed', reason: `oversized frame: ${frame.length} > ${this.maxFrameBytes} bytes` };
    }
    let eth: ReturnType<typeof decodeUdpFrame>['eth'];
    let ipv4: ReturnType<typeof decodeUdpFrame>['ipv4'];
    let msg: DhcpMessage;
    try {
      const d = decodeFrame(frame, { verifyUdpChecksum: this.verifyUdpChecksum });
      // Well-formed traffic that simply is not DHCP (ARP, TCP, fragments) is not the client's fault.
      if (!d.ipv4 || !d.udp) return { event: 'ignored', reason: 'not a UDP/IPv4 frame' };
      eth = d.eth;
      ipv4 = d.ipv4;
      if (d.udp.dstPort !== DHCP_PORT.SERVER)
        return { event: 'ignored', reason: `UDP port ${d.udp.dstPort} is not 67` };
      msg = decodeDhcp(d.udp.payload);
    } catch (e) {
      if (isPacketError(e)) return { event: 'malformed', reason: e.message };
      throw e;
    }
    const base = { xid: msg.xid, clientMac: msg.chaddr };
    try {
      return { ...base, ...this.answer(eth, ipv4, msg, ctx) };
    } catch (e) {
      // An encoder refusing a value means the context (the model) is bad, not the client's frame.
      if (e instanceof PacketValueError) return { ...base, event: 'ignored', reason: `bad DHCP context: ${e.message}` };
      // A client option with a bad length (e.g. option 50 of 3 bytes) is the client's fault.
      if (isPacketError(e)) return { ...base, event: 'malformed', reason: e.message };
      throw e;
    }
  }

  private answer(
    eth: ReturnType<typeof decodeUdpFrame>['eth'],
    ipv4: ReturnType<typeof decodeUdpFrame>['ipv4'],
    msg: DhcpMessage,
    ctx: DhcpContext,
  ): DhcpResult {
    if (msg.op !== BOOTP_OP.REQUEST) return { event: 'ignored', reason: `op ${msg.op} is not BOOTREQUEST` };
    if (msg.htype !== ARPHRD_ETHER || msg.chaddr.length !== 17) {
      return { event: 'ignored', reason: `unsupported hardware type ${msg.htype}` };
    }
    const type = dhcpMessageType(msg);
    if (type === undefined) return { event: 'ignored', reason: 'no DHCP message type (plain BOOTP is not served)' };
    // The agent only sees requests from its own ports: a relayed request did not come from a VM here.
    if (msg.giaddr !== ZERO) return { event: 'ignored', reason: `relayed request (giaddr ${msg.giaddr})` };
    // chaddr must be the sender's MAC, or a VM could obtain another interface's address.
    if (msg.chaddr !== eth.src)
      return { event: 'ignored', reason: `chaddr ${msg.chaddr} differs from source MAC ${eth.src}` };
    if (ipv4.dst !== LIMITED_BROADCAST && ipv4.dst !== ctx.server.ipv4Address) {
      return { event: 'ignored', reason: `addressed to ${ipv4.dst}, not this server` };
    }
    const serverIdData = getOption(msg, DHO.DHCP_SERVER_IDENTIFIER);
    const serverId = serverIdData ? readIpv4Option(serverIdData, DHO.DHCP_SERVER_IDENTIFIER) : undefined;
    const requestedData = getOption(msg, DHO.DHCP_REQUESTED_ADDRESS);
    const requested = requestedData ? readIpv4Option(requestedData, DHO.DHCP_REQUESTED_ADDRESS) : undefined;
    const client = ctx.client && normalizeMac(ctx.client.macAddress) === msg.chaddr ? ctx.client : null;
    const lease = client?.ipv4Address ?? null;
    if (lease !== null && !inNetwork(lease, ctx)) {
      return {
        event: 'ignored',
        reason: `lease ${lease} is outside ${ctx.network.ipv4Network}/${ctx.network.ipv4Prefix}`,
      };
    }

    switch (type) {
      case DHCP_MESSAGE_TYPE.DISCOVER:
        if (lease === null)
          return { event: 'ignored', reason: client ? 'interface has no IP lease in this network' : 'unknown MAC' };
        return this.reply('offer', DHCP_MESSAGE_TYPE.OFFER, eth, msg, ctx, lease);

      case DHCP_MESSAGE_TYPE.REQUEST: {
        if (serverId !== undefined) {
          // SELECTING (RFC 2131 §4.3.2): the client chose a server; if not us, stay silent.
          if (serverId !== ctx.server.ipv4Address)
            return { event: 'ignored', reason: `client selected server ${serverId}` };
          if (lease === null) return this.nak(eth, msg, ctx, client ? 'interface has no IP lease' : 'unknown MAC');
          if (requested !== lease)
            return this.nak(eth, msg, ctx, `requested ${requested ?? 'nothing'}, lease is ${lease}`);
          return this.reply('ack', DHCP_MESSAGE_TYPE.ACK, eth, msg, ctx, lease);
        }
        // INIT-REBOOT asks for `requested`; RENEWING/REBINDING carry their address in ciaddr.
        const asked = requested ?? (msg.ciaddr !== ZERO ? msg.ciaddr : undefined);
        if (asked === undefined)
          return { event: 'ignored', reason: 'REQUEST without server id, requested address or ciaddr' };
        if (lease === null) {
          // RFC 2131 §4.3.2 says stay silent without a record of the client; we do know an interface
          // without a lease must not keep an address, so we NAK it; an unknown MAC stays unanswered.
          if (!client) return { event: 'ignored', reason: 'unknown MAC' };
          return this.nak(eth, msg, ctx, 'interface has no IP lease');
        }
        if (asked !== lease) return this.nak(eth, msg, ctx, `requested ${asked}, lease is ${lease}`);
        return this.reply('ack', DHCP_MESSAGE_TYPE.ACK, eth, msg, ctx, lease);
      }

      case DHCP_MESSAGE_TYPE.RELEASE:
        if (serverId !== undefined && serverId !== ctx.server.ipv4Address) {
          return { event: 'ignored', reason: `RELEASE for server ${serverId}` };
        }
        // Leases are the model's; a release frees nothing, it is only reported.
        return { event: 'release', reason: `client released ${msg.ciaddr}` };

      case DHCP_MESSAGE_TYPE.DECLINE:
        if (serverId !== undefined && serverId !== ctx.server.ipv4Address) {
          return { event: 'ignored', reason: `DECLINE for server ${serverId}` };
        }
        // The client found its address in use (RFC 2131 §4.3.3): an operator must look at it.
        return { event: 'decline', reason: `client declined ${requested ?? msg.ciaddr}: address in use` };

      case DHCP_MESSAGE_TYPE.INFORM:
        // The client has an address already and wants only parameters (RFC 2131 §4.3.5).
        return this.reply('inform', DHCP_MESSAGE_TYPE.ACK, eth, msg, ctx, null);

      default:
        return {
          event: 'ignored',
          reason: `${DHCP_MESSAGE_TYPE_NAMES[type] ?? `message type ${type}`} is not a client request`,
        };
    }
  }

  private nak(
    eth: ReturnType<typeof decodeUdpFrame>['eth'],
    msg: DhcpMessage,
    ctx: DhcpContext,
    reason: string,
  ): DhcpResult {
    const options: DhcpOption[] = [
      u8Option(DHO.DHCP_MESSAGE_TYPE, DHCP_MESSAGE_TYPE.NAK),
      ipv4ListOption(DHO.DHCP_SERVER_IDENTIFIER, [ctx.server.ipv4Address]),
      stringOption(DHO.DHCP_MESSAGE, reason.replace(/[^\x20-\x7e]/g, '?').slice(0, 255)),
    ];
    const cid = getOption(msg, DHO.DHCP_CLIENT_IDENTIFIER);
    if (cid) options.push({ code: DHO.DHCP_CLIENT_IDENTIFIER, data: cid });
    const reply: DhcpMessage = { ...replyHeader(msg), ciaddr: ZERO, yiaddr: ZERO, options };
    // RFC 2131 §4.1: with giaddr zero, a DHCPNAK is always broadcast.
    return { event: 'nak', reason, reply: this.frame(eth, ctx, reply, LIMITED_BROADCAST, BROADCAST_MAC) };
  }

  private reply(
    event: 'offer' | 'ack' | 'inform',
    type: number,
    eth: ReturnType<typeof decodeUdpFrame>['eth'],
    msg: DhcpMessage,
    ctx: DhcpContext,
    lease: string | null,
  ): DhcpResult {
    const optional = buildParameterOptions(ctx, lease !== null);
    const head: DhcpOption[] = [
      u8Option(DHO.DHCP_MESSAGE_TYPE, type),
      ipv4ListOption(DHO.DHCP_SERVER_IDENTIFIER, [ctx.server.ipv4Address]),
    ];
    const cid = getOption(msg, DHO.DHCP_CLIENT_IDENTIFIER);
    // RFC 6842: a server that receives a client identifier returns it.
    const tail: DhcpOption[] = cid ? [{ code: DHO.DHCP_CLIENT_IDENTIFIER, data: cid }] : [];
    const reply: DhcpMessage = {
      ...replyHeader(msg),
      // RFC 2131 table 3: ciaddr is echoed in ACK (and INFORM's ACK), zero in OFFER.
      ciaddr: type === DHCP_MESSAGE_TYPE.OFFER ? ZERO : msg.ciaddr,
      yiaddr: lease ?? ZERO,
      options: [...head, ...optional, ...tail],
    };
    // Fit the client's maximum message size (option 57, never below 576-byte datagrams): shed the
    // least essential options first.
    const maxData = getOption(msg, DHO.DHCP_MAX_MESSAGE_SIZE);
    const maxSize = Math.max(
      DHCP_MIN_MAX_MESSAGE_SIZE,
      maxData ? readUintOption(maxData, 2, DHO.DHCP_MAX_MESSAGE_SIZE) - 28 : 0,
    );
    let payload = encodeDhcp(reply);
    for (const shed of [DHO.CLASSLESS_STATIC_ROUTE, DHO.DOMAIN_NAME, DHO.DOMAIN_NAME_SERVERS]) {
      if (payload.length <= maxSize) break;
      reply.options = reply.options.filter((o) => o.code !== shed);
      payload = encodeDhcp(reply);
    }
    const [dstIp, dstMac] = replyDestination(msg, lease);
    return {
      event,
      reply: this.frameFromPayload(eth, ctx, payload, dstIp, dstMac),
      ...(lease !== null ? { yiaddr: lease } : {}),
    };
  }

  private frame(
    eth: ReturnType<typeof decodeUdpFrame>['eth'],
    ctx: DhcpContext,
    m: DhcpMessage,
    dstIp: string,
    dstMac: string,
  ) {
    return this.frameFromPayload(eth, ctx, encodeDhcp(m), dstIp, dstMac);
  }

  private frameFromPayload(
    eth: ReturnType<typeof decodeUdpFrame>['eth'],
    ctx: DhcpContext,
    payload: Uint8Array,
    dstIp: string,
    dstMac: string,
  ): Uint8Array {
    this.ipId = (this.ipId + 1) & 0xffff;
    return buildUdpFrame({
      srcMac: ctx.server.macAddress.toLowerCase(),
      dstMac,
      vlans: eth.vlans,
      srcIp: ctx.server.ipv4Address,
      dstIp,
      srcPort: DHCP_PORT.SERVER,
      dstPort: DHCP_PORT.CLIENT,
      ttl: this.ttl,
      id: this.ipId,
      payload,
    });
  }
}

function replyHeader(msg: DhcpMessage): Omit<DhcpMessage, 'ciaddr' | 'yiaddr' | 'options'> {
  return {
    op: BOOTP_OP.REPLY,
    htype: msg.htype,
    hops: 0,
    xid: msg.xid,
    secs: 0,
    flags: msg.flags & BOOTP_BROADCAST,
    siaddr: ZERO,
    giaddr: msg.giaddr,
    chaddr: msg.chaddr,
    sname: '',
    file: '',
  };
}

/** RFC 2131 §4.1 reply addressing when giaddr is zero. */
function replyDestination(msg: DhcpMessage, yiaddr: string | null): [string, string] {
  if (msg.ciaddr !== ZERO) return [msg.ciaddr, msg.chaddr];
  if (msg.flags & BOOTP_BROADCAST || yiaddr === null) return [LIMITED_BROADCAST, BROADCAST_MAC];
  return [yiaddr, msg.chaddr];
}

function inNetwork(ip: string, ctx: DhcpContext): boolean {
  if (!isIpv4(ip)) return false;
  const mask = prefixToMask(ctx.network.ipv4Prefix);
  return (ipv4ToInt(ip) & mask) >>> 0 === (ipv4ToInt(ctx.network.ipv4Network) & mask) >>> 0;
}

/** The DNS servers handed out: the network's own list, else its `dns` service, else none. */
export function dnsServersFor(ctx: DhcpContext): string[] {
  if (ctx.network.dnsServers.length > 0) return ctx.network.dnsServers;
  return ctx.dnsService ? [ctx.dnsService] : [];
}

/**
 * The option 121 routes: the network's host routes, every network reachable through its router, then (RFC 3442
 * clients ignore option 3 when 121 is present) 0.0.0.0/0 via the router. A network without a router gets a route
 * to the metadata address via the DHCP server's address, when this host serves metadata: with a router the
 * default route takes a VM there (the switch steers it before routing); without one it had no way. The first
 * route to a destination wins, so a host route 0.0.0.0/0 replaces the one via the router.
 */
export function classlessRoutesFor(ctx: DhcpContext): ClasslessRoute[] {
  const router = ctx.router?.ipv4Address;
  const routes: ClasslessRoute[] = [];
  const seen = new Set<string>();
  const add = (net: string, prefix: number, via: string) => {
    const mask = prefixToMask(prefix);
    const network = intToIpv4((ipv4ToInt(net) & mask) >>> 0);
    const key = `${network}/${prefix}`;
    if (seen.has(key)) return;
    seen.add(key);
    routes.push({ network, prefix, router: via });
  };
  for (const h of ctx.hostRoutes ?? []) add(h.network, h.prefix, h.router);
  for (const r of ctx.routes) {
    const via = r.router ?? router;
    if (via && r.ipv4Prefix !== 0) add(r.ipv4Network, r.ipv4Prefix, via);
  }
  if (!router && ctx.metadataIp) add(ctx.metadataIp, 32, ctx.server.ipv4Address);
  if (routes.length > 0 && router) add(ZERO, 0, router);
  return routes;
}

/** Options describing the network (everything but message type, server id and client id). */
export function buildParameterOptions(ctx: DhcpContext, withLease: boolean): DhcpOption[] {
  const out: DhcpOption[] = [];
  const lease = ctx.network.leaseTime;
  if (withLease) {
    out.push(u32Option(DHO.DHCP_LEASE_TIME, lease));
    if (lease !== DHCP_INFINITE_LEASE) {
      // RFC 2131 §4.4.5 defaults: T1 = 0.5 × lease, T2 = 0.875 × lease.
      out.push(u32Option(DHO.DHCP_RENEWAL_TIME, Math.floor(lease / 2)));
      out.push(u32Option(DHO.DHCP_REBINDING_TIME, Math.floor((lease * 7) / 8)));
    }
  }
  const mask = prefixToMask(ctx.network.ipv4Prefix);
  out.push(ipv4ListOption(DHO.SUBNET_MASK, [intToIpv4(mask)]));
  const bcast = ((ipv4ToInt(ctx.network.ipv4Network) & mask) | ~mask) >>> 0;
  out.push(ipv4ListOption(DHO.BROADCAST_ADDRESS, [intToIpv4(bcast)]));
  if (ctx.router) out.push(ipv4ListOption(DHO.ROUTERS, [ctx.router.ipv4Address]));
  const dns = dnsServersFor(ctx);
  if (dns.length > 0) out.push(ipv4ListOption(DHO.DOMAIN_NAME_SERVERS, dns));
  if (ctx.network.domainName) out.push(stringOption(DHO.DOMAIN_NAME, ctx.network.domainName));
  out.push(u16Option(DHO.INTERFACE_MTU, interfaceMtu(ctx.network.mtu, ctx.encapsulation, ctx.underlayMtu)));
  const routes = classlessRoutesFor(ctx);
  if (routes.length > 0) out.push(classlessRoutesOption(routes));
  return out;
}

/** The source MAC of a frame (what the agent looks the client up by), or null if too short. */
export function clientMacOf(frame: Uint8Array): string | null {
  return frame.length >= ETH_HLEN ? formatMac(frame, 6) : null;
}
