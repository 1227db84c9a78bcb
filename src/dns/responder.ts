// The agent's DNS server for one frame: a VM's query (Ethernet/IPv4/UDP to a DNS service's address, port 53) in,
// the answer frame back to that VM out — from the records (answer.ts) or relayed from upstream (forwarder.ts).
import {
  buildUdpFrame,
  DNS_HLEN,
  DNS_PORT,
  DNS_TYPE,
  decodeDns,
  decodeFrame,
  encodeDns,
  isPacketError,
} from '../packet/index.js';
import { answerQuery, type DnsEvent, type DnsServiceContext, servfailFor } from './answer.js';
import type { DnsForwarder } from './forwarder.js';

/** The service a query reached: what it answers from, and the address and MAC it answers as. */
export interface DnsTarget {
  ctx: DnsServiceContext;
  ipv4Address: string;
  macAddress: string;
}

export interface DnsResult {
  reply?: Uint8Array;
  event: DnsEvent;
  reason?: string;
}

/** RFC 1035 §4.2.1: without EDNS a UDP answer is at most 512 bytes. */
const CLASSIC_UDP_SIZE = 512;

export class DnsResponder {
  readonly counters = Object.fromEntries(
    (
      [
        'answered',
        'nodata',
        'refused',
        'forwarded',
        'upstream_failed',
        'notimp',
        'formerr',
        'malformed',
        'ignored',
      ] as const
    ).map((e) => [e, 0]),
  ) as Record<DnsEvent, number>;
  private ipId = 0;

  /**
   * `forwarder`: relays to public_dns (absent: names not in the records are answered as if no upstream were set).
   * `maxIpBytes`: the VMs' MTU, which an answer must fit in (a longer upstream answer is truncated, TC set).
   */
  constructor(
    private readonly forwarder: Pick<DnsForwarder, 'exchange'> | null,
    private readonly maxIpBytes = 1450,
  ) {}

  /** Answers one frame; never rejects for bad input. `target` finds the service at the query's destination. */
  async handle(frame: Uint8Array, target: (dstIp: string) => DnsTarget | null): Promise<DnsResult> {
    const r = await this.inner(frame, target);
    this.counters[r.event]++;
    return r;
  }

  private async inner(frame: Uint8Array, target: (dstIp: string) => DnsTarget | null): Promise<DnsResult> {
    let d: ReturnType<typeof decodeFrame>;
    try {
      // UDP checksums are not checked: a VM's frames may carry the partial sum of checksum offload (see DHCP's).
      d = decodeFrame(frame, { verifyUdpChecksum: false });
    } catch (e) {
      if (isPacketError(e)) return { event: 'malformed', reason: e.message };
      throw e;
    }
    const { eth, ipv4, udp } = d;
    if (!ipv4 || !udp || udp.dstPort !== DNS_PORT) return { event: 'ignored', reason: 'not UDP to port 53' };
    const t = target(ipv4.dst);
    if (!t) return { event: 'ignored', reason: `no DNS service at ${ipv4.dst} in the port's network` };
    const frameFor = (payload: Uint8Array) => {
      this.ipId = (this.ipId + 1) & 0xffff;
      return buildUdpFrame({
        srcMac: t.macAddress,
        dstMac: eth.src,
        vlans: eth.vlans,
        srcIp: t.ipv4Address,
        dstIp: ipv4.src,
        srcPort: DNS_PORT,
        dstPort: udp.srcPort,
        id: this.ipId,
        payload,
      });
    };
    const r = await this.decide(udp.payload, t.ctx, true);
    return r.payload ? { reply: frameFor(r.payload), event: r.event, ...(r.reason ? { reason: r.reason } : {}) } : r;
  }

  /**
   * Answers one query as received over TCP (RFC 7766: the message without its length prefix), to the service
   * `target` (null: none in the VM's network, nothing answered): no UDP size limit, the answer's bytes only.
   */
  async handlePayload(payload: Uint8Array, target: DnsTarget | null): Promise<DnsResult> {
    const r: DnsResult = target
      ? await this.decide(payload, target.ctx, false).then(({ payload: reply, ...rest }) => ({
          ...rest,
          ...(reply ? { reply } : {}),
        }))
      : { event: 'ignored', reason: "no DNS service in the port's network" };
    this.counters[r.event]++;
    return r;
  }

  /** The answer's DNS message to `query` (records, else relayed upstream); `udp`: fit it to what UDP carries. */
  private async decide(
    query: Uint8Array,
    ctx: DnsServiceContext,
    udp: boolean,
  ): Promise<{ payload?: Uint8Array; event: DnsEvent; reason?: string }> {
    const decision = answerQuery(query, ctx);
    if (decision.kind === 'drop') return { event: decision.event, reason: decision.reason };
    if (decision.kind === 'answer')
      return {
        payload: decision.payload,
        event: decision.event,
        ...(decision.reason ? { reason: decision.reason } : {}),
      };
    const upstream = this.forwarder ? await this.forwarder.exchange(decision.query, decision.servers) : null;
    if (!upstream) {
      const fail = servfailFor(query, ctx);
      const reason = fail ? `no answer from ${decision.servers.join(', ')}` : 'no answer';
      return fail ? { payload: fail, event: 'upstream_failed', reason } : { event: 'upstream_failed', reason };
    }
    return { payload: udp ? this.fit(upstream, query) : upstream, event: 'forwarded' };
  }

  /**
   * An upstream answer longer than the VM said it takes (512, or its EDNS size) or than its MTU is cut to the
   * header and question with TC set, so the VM's resolver knows to retry (RFC 1035 §4.2.1, RFC 6891 §7).
   */
  private fit(answer: Uint8Array, query: Uint8Array): Uint8Array {
    let limit = CLASSIC_UDP_SIZE;
    try {
      const opt = decodeDns(query).additionals.find((r) => r.type === DNS_TYPE.OPT);
      if (opt) limit = Math.max(CLASSIC_UDP_SIZE, opt.class);
    } catch {
      /* it decoded before being forwarded */
    }
    limit = Math.min(limit, this.maxIpBytes - 28);
    if (answer.length <= limit) return answer;
    try {
      const m = decodeDns(answer);
      return encodeDns({
        ...m,
        flags: { ...m.flags, tc: true },
        answers: [],
        authorities: [],
        additionals: m.additionals.filter((r) => r.type === DNS_TYPE.OPT),
      });
    } catch (e) {
      if (!isPacketError(e)) throw e;
      // Not even decodable: keep the header with TC and no sections.
      const head = answer.slice(0, DNS_HLEN);
      head[2]! |= 0x02;
      head.fill(0, 4);
      return head;
    }
  }
}
