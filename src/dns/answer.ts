// What a DNS service says to one query, from its records alone: an answer, or "ask the upstream servers". Pure:
// no sockets, no model; the responder (responder.ts) frames it and the forwarder (forwarder.ts) relays.
import {
  DNS_CLASS,
  DNS_OPCODE,
  DNS_RCODE,
  DNS_TYPE,
  type DnsMessage,
  type DnsQuestion,
  type DnsRecord,
  decodeDns,
  dnsIdOf,
  encodeDns,
  isPacketError,
  u16,
} from '../packet/index.js';

/** One DNS service as a query sees it (src/agent/runtime/dns-service.ts derives it from the model). */
export interface DnsServiceContext {
  /** The dns_services row; null when the `dns` network service has none (then nothing is answered from records). */
  serviceUuid: string | null;
  /** name → addresses, names lower case without a trailing dot (see recordIndex). */
  records: ReadonlyMap<string, readonly string[]>;
  /** Upstream servers for names not in the records (public_dns), in order; empty: none. */
  publicDns: readonly string[];
  /** The network's domain_name: `vm1.<domain>` finds the record `vm1` too (a resolver's search list asks that first). */
  domain: string | null;
}

/** TTL of answers from records. Short, so a deleted or changed record leaves resolvers' caches soon. */
export const RECORD_TTL = 60;
/** The UDP payload size vnet's answers advertise in EDNS (RFC 6891; the DNS flag day's 1232). */
export const EDNS_UDP_SIZE = 1232;

/** What happened to a query: the agent counts these (dns_queries_total{event}). */
export type DnsEvent =
  | 'answered'
  | 'nodata'
  | 'refused'
  | 'forwarded'
  | 'upstream_failed'
  | 'notimp'
  | 'formerr'
  | 'malformed'
  | 'ignored';

export type DnsDecision =
  | { kind: 'answer'; payload: Uint8Array; event: DnsEvent; reason?: string }
  | { kind: 'forward'; query: Uint8Array; servers: readonly string[]; event: 'forwarded' }
  | { kind: 'drop'; event: DnsEvent; reason: string };

/** The lookup form of a name: lower case (RFC 4343), no trailing dot. */
export function normalizeDnsName(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

/** Records (dns_records items) as the name → addresses map DnsServiceContext takes, in the order given. */
export function recordIndex(
  records: readonly { name?: string | null; ipv4_address?: string | null }[],
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of records) {
    if (!r.name || !r.ipv4_address) continue;
    const k = normalizeDnsName(r.name);
    const list = out.get(k);
    if (!list) out.set(k, [r.ipv4_address]);
    else if (!list.includes(r.ipv4_address)) list.push(r.ipv4_address);
  }
  return out;
}

/** The addresses of a name: itself, or without the network's domain. Undefined: the service does not know it. */
function lookup(ctx: DnsServiceContext, qname: string): readonly string[] | undefined {
  const name = normalizeDnsName(qname);
  const direct = ctx.records.get(name);
  if (direct) return direct;
  const domain = ctx.domain ? normalizeDnsName(ctx.domain) : '';
  if (domain && name.endsWith(`.${domain}`)) return ctx.records.get(name.slice(0, -domain.length - 1));
  return undefined;
}

/** The reply skeleton for `q`: its id, question and RD; RA set (we answer what we can't from records by asking). */
function reply(q: DnsMessage, rcode: number, answers: DnsRecord[], ctx: DnsServiceContext): Uint8Array {
  const edns = q.additionals.some((r) => r.type === DNS_TYPE.OPT);
  return encodeDns({
    id: q.id,
    flags: {
      qr: true,
      opcode: q.flags.opcode,
      aa: answers.length > 0,
      tc: false,
      rd: q.flags.rd,
      ra: ctx.publicDns.length > 0,
      z: 0,
      rcode,
    },
    questions: q.questions,
    answers,
    authorities: [],
    // RFC 6891 §7: a responder that understands EDNS answers a query that had an OPT with one.
    additionals: edns ? [{ name: '', type: DNS_TYPE.OPT, class: EDNS_UDP_SIZE, ttl: 0, data: new Uint8Array(0) }] : [],
  });
}

/** A bare error answer to bytes that did not decode but carry an id (RFC 1035: FORMERR). */
function formerr(payload: Uint8Array): Uint8Array | null {
  const id = dnsIdOf(payload);
  if (id === null) return null;
  // A response (QR set) is never answered: two services must not bounce errors at each other.
  if ((u16(payload, 2) & 0x8000) !== 0) return null;
  return encodeDns({
    id,
    flags: {
      qr: true,
      opcode: (u16(payload, 2) >>> 11) & 0xf,
      aa: false,
      tc: false,
      rd: false,
      ra: false,
      z: 0,
      rcode: DNS_RCODE.FORMERR,
    },
    questions: [],
    answers: [],
    authorities: [],
    additionals: [],
  });
}

/**
 * The service's decision for one query payload (the UDP payload a VM sent to port 53). Records first; a name the
 * records do not know goes to the upstream servers when there are any, else is REFUSED. Never throws for bad bytes.
 */
export function answerQuery(payload: Uint8Array, ctx: DnsServiceContext): DnsDecision {
  let q: DnsMessage;
  try {
    q = decodeDns(payload);
  } catch (e) {
    if (!isPacketError(e)) throw e;
    const err = formerr(payload);
    return err
      ? { kind: 'answer', payload: err, event: 'formerr', reason: e.message }
      : { kind: 'drop', event: 'malformed', reason: e.message };
  }
  if (q.flags.qr) return { kind: 'drop', event: 'ignored', reason: 'a response, not a query' };
  if (q.flags.opcode !== DNS_OPCODE.QUERY)
    return { kind: 'answer', payload: reply(q, DNS_RCODE.NOTIMP, [], ctx), event: 'notimp' };
  const question: DnsQuestion | undefined = q.questions[0];
  if (q.questions.length !== 1 || !question)
    return {
      kind: 'answer',
      payload: reply(q, DNS_RCODE.FORMERR, [], ctx),
      event: 'formerr',
      reason: `${q.questions.length} questions`,
    };
  const inClass = question.class === DNS_CLASS.IN || question.class === DNS_CLASS.ANY;
  const known = inClass ? lookup(ctx, question.name) : undefined;
  if (known) {
    // The name is the service's: A (or ANY) gets its addresses; any other type exists for no record: NODATA.
    if (question.type !== DNS_TYPE.A && question.type !== DNS_TYPE.ANY)
      return { kind: 'answer', payload: reply(q, DNS_RCODE.NOERROR, [], ctx), event: 'nodata' };
    const answers = known.map((address) => ({
      name: question.name,
      type: DNS_TYPE.A,
      class: DNS_CLASS.IN,
      ttl: RECORD_TTL,
      data: new Uint8Array(0),
      address,
    }));
    return { kind: 'answer', payload: reply(q, DNS_RCODE.NOERROR, answers, ctx), event: 'answered' };
  }
  if (ctx.publicDns.length > 0) return { kind: 'forward', query: payload, servers: ctx.publicDns, event: 'forwarded' };
  // No upstream: the service answers for its records only (OpenVNet said SERVFAIL here; see docs/dns.md).
  return { kind: 'answer', payload: reply(q, DNS_RCODE.REFUSED, [], ctx), event: 'refused' };
}

/** SERVFAIL for a query the upstream servers did not answer (OpenVNet's answer when public DNS timed out). */
export function servfailFor(payload: Uint8Array, ctx: DnsServiceContext): Uint8Array | null {
  try {
    return reply(decodeDns(payload), DNS_RCODE.SERVFAIL, [], ctx);
  } catch (e) {
    if (isPacketError(e)) return null;
    throw e;
  }
}
