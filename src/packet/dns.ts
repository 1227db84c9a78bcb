// DNS messages (RFC 1035 §4, EDNS's OPT record of RFC 6891 as a plain record): decode and encode.
//
// Small and ours rather than a dependency: the agent answers A queries and relays everything else byte for byte,
// so it needs the header, the question and A/opaque records — and decoding a VM's bytes must fail only with a
// typed PacketError (dns-packet, the maintained npm codec, throws plain Errors and RangeErrors on bad input).
import { checkUint, formatIpv4, need, putU16, putU32, u16, u32, writeIpv4 } from './bytes.js';
import { PacketMalformedError, PacketValueError } from './errors.js';

export const DNS_PORT = 53;
export const DNS_HLEN = 12;
/** RFC 1035 §2.3.4: a label is at most 63 bytes, a name at most 255 on the wire. */
export const DNS_MAX_LABEL = 63;
export const DNS_MAX_NAME = 255;

/** Record types vnet reads (IANA "Resource Record (RR) TYPEs"). */
export const DNS_TYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  OPT: 41,
  ANY: 255,
} as const;
export const DNS_CLASS = { IN: 1, ANY: 255 } as const;
export const DNS_OPCODE = { QUERY: 0 } as const;
/** Response codes (RFC 1035 §4.1.1). */
export const DNS_RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export const DNS_RCODE_NAMES: Readonly<Record<number, string>> = Object.freeze(
  Object.fromEntries(Object.entries(DNS_RCODE).map(([k, v]) => [v, k])),
);

export interface DnsFlags {
  /** true: a response. */
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  /** The three bits after RA (Z, AD, CD), kept as they came. */
  z: number;
  rcode: number;
}

export interface DnsQuestion {
  /** Lower-level form: labels joined by dots, no trailing dot; '' is the root. */
  name: string;
  type: number;
  class: number;
}

export interface DnsRecord {
  name: string;
  type: number;
  /** For OPT: the sender's UDP payload size. */
  class: number;
  /** For OPT: extended rcode, version and flags. */
  ttl: number;
  /** RDATA as it is on the wire (names in it are not decompressed). For type A, `address` says it in text. */
  data: Uint8Array;
  address?: string;
}

export interface DnsMessage {
  id: number;
  flags: DnsFlags;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

/** The header's flag word (bytes 2..3) as fields. */
export function decodeDnsFlags(word: number): DnsFlags {
  return {
    qr: (word & 0x8000) !== 0,
    opcode: (word >>> 11) & 0xf,
    aa: (word & 0x0400) !== 0,
    tc: (word & 0x0200) !== 0,
    rd: (word & 0x0100) !== 0,
    ra: (word & 0x0080) !== 0,
    z: (word >>> 4) & 0x7,
    rcode: word & 0xf,
  };
}

function encodeDnsFlags(f: DnsFlags): number {
  return (
    (f.qr ? 0x8000 : 0) |
    (checkUint(f.opcode, 4, 'dns.opcode') << 11) |
    (f.aa ? 0x0400 : 0) |
    (f.tc ? 0x0200 : 0) |
    (f.rd ? 0x0100 : 0) |
    (f.ra ? 0x0080 : 0) |
    (checkUint(f.z, 3, 'dns.z') << 4) |
    checkUint(f.rcode, 4, 'dns.rcode')
  );
}

/**
 * Reads a (possibly compressed) name at `off`; returns it and the offset after it where it started. Pointers must
 * point before the name that uses them (so no loop can be built), and the name stays within 255 wire bytes.
 */
export function readDnsName(buf: Uint8Array, off: number, field: string): { name: string; end: number } {
  const labels: string[] = [];
  let wire = 1; // the root's zero byte
  let end = -1;
  let at = off;
  let limit = off; // a pointer must go below where the current run of labels started
  for (;;) {
    need(buf, at, 1, field);
    const len = buf[at]!;
    if (len === 0) {
      if (end < 0) end = at + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      need(buf, at, 2, field);
      const target = u16(buf, at) & 0x3fff;
      if (target >= limit) throw new PacketMalformedError(field, `compression pointer ${target} does not point back`);
      if (end < 0) end = at + 2;
      at = target;
      limit = target;
      continue;
    }
    if (kind !== 0) throw new PacketMalformedError(field, `label type 0x${kind.toString(16)} is not supported`);
    need(buf, at + 1, len, field);
    wire += len + 1;
    if (wire > DNS_MAX_NAME) throw new PacketMalformedError(field, `name longer than ${DNS_MAX_NAME} bytes`);
    let label = '';
    for (let i = at + 1; i <= at + len; i++) {
      // A dot inside a label is legal on the wire but could not be told from a separator in the text form.
      if (buf[i] === 0x2e) throw new PacketMalformedError(field, 'a label holds a dot');
      label += String.fromCharCode(buf[i]!);
    }
    labels.push(label);
    at += len + 1;
  }
  return { name: labels.join('.'), end };
}

/** The wire labels of a name ('' or '.' is the root; one trailing dot is allowed). */
function nameLabels(name: string, field: string): string[] {
  const text = name.endsWith('.') ? name.slice(0, -1) : name;
  if (text === '') return [];
  const labels = text.split('.');
  let wire = 1;
  for (const l of labels) {
    if (l.length === 0 || l.length > DNS_MAX_LABEL)
      throw new PacketValueError(field, `label "${l}" must be 1..${DNS_MAX_LABEL} bytes`);
    for (let i = 0; i < l.length; i++)
      if (l.charCodeAt(i) > 0xff) throw new PacketValueError(field, `label "${l}" is not bytes`);
    wire += l.length + 1;
  }
  if (wire > DNS_MAX_NAME) throw new PacketValueError(field, `name longer than ${DNS_MAX_NAME} bytes`);
  return labels;
}

function nameLength(name: string, field: string): number {
  return nameLabels(name, field).reduce((n, l) => n + l.length + 1, 1);
}

function writeName(buf: Uint8Array, off: number, name: string, field: string): number {
  for (const l of nameLabels(name, field)) {
    buf[off++] = l.length;
    for (let i = 0; i < l.length; i++) buf[off++] = l.charCodeAt(i);
  }
  buf[off++] = 0;
  return off;
}

function readRecord(buf: Uint8Array, off: number, field: string): { record: DnsRecord; end: number } {
  const { name, end: at } = readDnsName(buf, off, `${field}.name`);
  need(buf, at, 10, field);
  const type = u16(buf, at);
  const rdlength = u16(buf, at + 8);
  need(buf, at + 10, rdlength, `${field}.rdata`);
  const data = buf.slice(at + 10, at + 10 + rdlength);
  const record: DnsRecord = { name, type, class: u16(buf, at + 2), ttl: u32(buf, at + 4), data };
  if (type === DNS_TYPE.A && record.class === DNS_CLASS.IN) {
    if (rdlength !== 4) throw new PacketMalformedError(`${field}.rdata`, `an A record holds 4 bytes, not ${rdlength}`);
    record.address = formatIpv4(data);
  }
  return { record, end: at + 10 + rdlength };
}

/** Decodes a whole message; throws PacketError for anything short or wrong. Bytes after the last record are ignored. */
export function decodeDns(buf: Uint8Array): DnsMessage {
  need(buf, 0, DNS_HLEN, 'dns.header');
  const counts = [u16(buf, 4), u16(buf, 6), u16(buf, 8), u16(buf, 10)] as const;
  // Every question takes 5 bytes and every record 11 at least: a count the message cannot hold is refused up front.
  if (DNS_HLEN + counts[0] * 5 + (counts[1] + counts[2] + counts[3]) * 11 > buf.length)
    throw new PacketMalformedError('dns.header', `counts ${counts.join('/')} do not fit in ${buf.length} bytes`);
  let off = DNS_HLEN;
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < counts[0]; i++) {
    const { name, end } = readDnsName(buf, off, `dns.question[${i}].name`);
    need(buf, end, 4, `dns.question[${i}]`);
    questions.push({ name, type: u16(buf, end), class: u16(buf, end + 2) });
    off = end + 4;
  }
  const sections: DnsRecord[][] = [[], [], []];
  const names = ['answer', 'authority', 'additional'];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]!; i++) {
      const { record, end } = readRecord(buf, off, `dns.${names[s]}[${i}]`);
      sections[s]!.push(record);
      off = end;
    }
  }
  return {
    id: u16(buf, 0),
    flags: decodeDnsFlags(u16(buf, 2)),
    questions,
    answers: sections[0]!,
    authorities: sections[1]!,
    additionals: sections[2]!,
  };
}

function recordData(r: DnsRecord, field: string): Uint8Array {
  if (r.type === DNS_TYPE.A && r.address !== undefined) {
    const out = new Uint8Array(4);
    writeIpv4(out, 0, r.address, `${field}.address`);
    return out;
  }
  return r.data;
}

/** Bytes `encodeDns(m)` writes. */
export function dnsEncodingLength(m: DnsMessage): number {
  let len = DNS_HLEN;
  m.questions.forEach((q, i) => {
    len += nameLength(q.name, `dns.question[${i}].name`) + 4;
  });
  for (const [s, rs] of [m.answers, m.authorities, m.additionals].entries())
    rs.forEach((r, i) => {
      const field = `dns.${['answer', 'authority', 'additional'][s]}[${i}]`;
      len += nameLength(r.name, `${field}.name`) + 10 + recordData(r, field).length;
    });
  return len;
}

/** Encodes a message (names uncompressed: answers of a few records fit easily). */
export function encodeDns(m: DnsMessage): Uint8Array {
  const len = dnsEncodingLength(m);
  if (len > 0xffff) throw new PacketValueError('dns', `${len} bytes exceed 65535`);
  const out = new Uint8Array(len);
  putU16(out, 0, checkUint(m.id, 16, 'dns.id'));
  putU16(out, 2, encodeDnsFlags(m.flags));
  const sections = [m.answers, m.authorities, m.additionals];
  putU16(out, 4, checkUint(m.questions.length, 16, 'dns.qdcount'));
  for (const [s, rs] of sections.entries()) putU16(out, 6 + s * 2, checkUint(rs.length, 16, 'dns.count'));
  let off = DNS_HLEN;
  for (const [i, q] of m.questions.entries()) {
    off = writeName(out, off, q.name, `dns.question[${i}].name`);
    putU16(out, off, checkUint(q.type, 16, `dns.question[${i}].type`));
    putU16(out, off + 2, checkUint(q.class, 16, `dns.question[${i}].class`));
    off += 4;
  }
  for (const [s, rs] of sections.entries())
    for (const [i, r] of rs.entries()) {
      const field = `dns.${['answer', 'authority', 'additional'][s]}[${i}]`;
      off = writeName(out, off, r.name, `${field}.name`);
      const data = recordData(r, field);
      putU16(out, off, checkUint(r.type, 16, `${field}.type`));
      putU16(out, off + 2, checkUint(r.class, 16, `${field}.class`));
      putU32(out, off + 4, checkUint(r.ttl, 32, `${field}.ttl`));
      putU16(out, off + 8, checkUint(data.length, 16, `${field}.rdlength`));
      out.set(data, off + 10);
      off += 10 + data.length;
    }
  return out;
}

/** The id of a message that is at least as long as a header, else null (for answering what cannot be parsed). */
export function dnsIdOf(buf: Uint8Array): number | null {
  return buf.length >= DNS_HLEN ? u16(buf, 0) : null;
}

/** A copy of `buf` with its id replaced (relaying a message under another id). */
export function withDnsId(buf: Uint8Array, id: number): Uint8Array {
  need(buf, 0, DNS_HLEN, 'dns.header');
  const out = buf.slice();
  putU16(out, 0, checkUint(id, 16, 'dns.id'));
  return out;
}
