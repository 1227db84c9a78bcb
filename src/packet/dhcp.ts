// DHCP/BOOTP messages (RFC 2131, RFC 951) and their options (RFC 2132, 3396 long options, 3442 classless routes).
import {
  checkUint,
  formatIpv4,
  intToIpv4,
  ipv4ToInt,
  need,
  prefixToMask,
  putU16,
  putU32,
  u16,
  u32,
  writeIpv4,
} from './bytes.js';
import { PacketMalformedError, PacketTruncatedError, PacketValueError } from './errors.js';

// Message types, option 53 (RFC 2132 §9.6).
export const DHCP_MESSAGE_TYPE = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;

/** Each message type's name as RFC 2131 writes it (DHCPDISCOVER, …), for logs and reasons. */
export const DHCP_MESSAGE_TYPE_NAMES: Readonly<Record<number, string>> = Object.freeze(
  Object.fromEntries(Object.entries(DHCP_MESSAGE_TYPE).map(([name, type]) => [type, `DHCP${name}`])),
);

// Option codes (RFC 2132 and later; names as in ISC dhcp's dhcp.h, without its DHO_ prefix).
export const DHO = {
  PAD: 0,
  SUBNET_MASK: 1,
  ROUTERS: 3,
  DOMAIN_NAME_SERVERS: 6,
  HOST_NAME: 12,
  DOMAIN_NAME: 15,
  INTERFACE_MTU: 26,
  BROADCAST_ADDRESS: 28,
  STATIC_ROUTES: 33,
  DHCP_REQUESTED_ADDRESS: 50,
  DHCP_LEASE_TIME: 51,
  DHCP_OPTION_OVERLOAD: 52,
  DHCP_MESSAGE_TYPE: 53,
  DHCP_SERVER_IDENTIFIER: 54,
  DHCP_PARAMETER_REQUEST_LIST: 55,
  DHCP_MESSAGE: 56,
  DHCP_MAX_MESSAGE_SIZE: 57,
  DHCP_RENEWAL_TIME: 58,
  DHCP_REBINDING_TIME: 59,
  VENDOR_CLASS_IDENTIFIER: 60,
  DHCP_CLIENT_IDENTIFIER: 61,
  CLASSLESS_STATIC_ROUTE: 121,
  END: 255,
} as const;

// Op codes, ports, flags and sizes (RFC 2131 §2, §4.1; RFC 951). `htype` takes ARP's hardware types (ARPHRD_ETHER).
export const BOOTP_OP = { REQUEST: 1, REPLY: 2 } as const;
export const DHCP_PORT = { SERVER: 67, CLIENT: 68 } as const;
/** The BROADCAST bit of `flags` (RFC 2131 §2, figure 2). */
export const BOOTP_BROADCAST = 0x8000;
/** RFC 951's minimum BOOTP message (64-byte vend area); some clients drop shorter replies. */
export const BOOTP_MIN_LEN = 300;
/** RFC 2131 §2: every client must accept 576-byte IP datagrams, so 576 − 20 − 8 bytes of DHCP. */
export const DHCP_MIN_MAX_MESSAGE_SIZE = 548;
/** A lease time of all ones means "infinite" (RFC 2131 §3.3). */
export const DHCP_INFINITE_LEASE = 0xffffffff;

/** One option; repeated codes in the input are concatenated per RFC 3396. */
export interface DhcpOption {
  code: number;
  data: Uint8Array;
}

export interface DhcpMessage {
  op: number;
  htype: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** Client hardware address, `hlen` bytes as colon hex (a MAC for htype 1). */
  chaddr: string;
  /** Server host name / boot file name, NUL-terminated text ('' when used for option overload). */
  sname: string;
  file: string;
  /** Options in wire order, without PAD/END. */
  options: DhcpOption[];
}

/** 99.130.83.99, RFC 2131 §3 "magic cookie". */
export const DHCP_OPTIONS_COOKIE = 0x63825363;
/** Fixed BOOTP header before the cookie: op..file. */
export const DHCP_FIXED_LEN = 236;
const SNAME_OFF = 44;
const SNAME_LEN = 64;
const FILE_OFF = 108;
const FILE_LEN = 128;
const OPTIONS_OFF = DHCP_FIXED_LEN + 4;

function readCString(buf: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && buf[end] !== 0) end++;
  return String.fromCharCode(...buf.subarray(off, end));
}

function formatChaddr(buf: Uint8Array, off: number, hlen: number): string {
  const parts: string[] = [];
  for (let i = 0; i < hlen; i++) parts.push(buf[off + i]!.toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** Parses an options area into `into` (RFC 3396: a repeated code's data is concatenated). */
function parseOptionArea(
  buf: Uint8Array,
  start: number,
  end: number,
  field: string,
  into: Map<number, Uint8Array[]>,
  order: number[],
): void {
  let i = start;
  while (i < end) {
    const code = buf[i]!;
    if (code === DHO.END) return;
    if (code === DHO.PAD) {
      i++;
      continue;
    }
    if (i + 1 >= end) throw new PacketTruncatedError(`${field}[${code}].length`, 1, 0);
    const len = buf[i + 1]!;
    if (i + 2 + len > end) throw new PacketTruncatedError(`${field}[${code}]`, len, end - i - 2);
    const chunks = into.get(code);
    const data = buf.subarray(i + 2, i + 2 + len);
    if (chunks) chunks.push(data);
    else {
      into.set(code, [data]);
      order.push(code);
    }
    i += 2 + len;
  }
  // Reaching the end without END (option 255) is tolerated: many stacks omit it in the sname/file areas.
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Decodes a DHCP message (the UDP payload). Plain BOOTP without the magic cookie is refused. */
export function decodeDhcp(buf: Uint8Array): DhcpMessage {
  need(buf, 0, DHCP_FIXED_LEN, 'dhcp.header');
  const hlen = buf[2]!;
  if (hlen > 16) throw new PacketMalformedError('dhcp.hlen', `${hlen} exceeds the 16-byte chaddr field`);
  need(buf, DHCP_FIXED_LEN, 4, 'dhcp.cookie');
  if (u32(buf, DHCP_FIXED_LEN) !== DHCP_OPTIONS_COOKIE) {
    throw new PacketMalformedError(
      'dhcp.cookie',
      `expected 0x63825363, got 0x${u32(buf, DHCP_FIXED_LEN).toString(16)}`,
    );
  }
  const map = new Map<number, Uint8Array[]>();
  const order: number[] = [];
  parseOptionArea(buf, OPTIONS_OFF, buf.length, 'dhcp.options', map, order);
  // Option overload (RFC 2131 §4.1): options continue in `file`, then `sname`.
  const overload = map.get(DHO.DHCP_OPTION_OVERLOAD);
  let overloadValue = 0;
  if (overload) {
    const v = concat(overload);
    if (v.length !== 1 || v[0]! < 1 || v[0]! > 3)
      throw new PacketMalformedError('dhcp.options[52]', 'overload must be one byte 1..3');
    overloadValue = v[0]!;
    if (overloadValue & 1) parseOptionArea(buf, FILE_OFF, FILE_OFF + FILE_LEN, 'dhcp.file', map, order);
    if (overloadValue & 2) parseOptionArea(buf, SNAME_OFF, SNAME_OFF + SNAME_LEN, 'dhcp.sname', map, order);
  }
  return {
    op: buf[0]!,
    htype: buf[1]!,
    hops: buf[3]!,
    xid: u32(buf, 4),
    secs: u16(buf, 8),
    flags: u16(buf, 10),
    ciaddr: formatIpv4(buf, 12),
    yiaddr: formatIpv4(buf, 16),
    siaddr: formatIpv4(buf, 20),
    giaddr: formatIpv4(buf, 24),
    chaddr: formatChaddr(buf, 28, hlen),
    sname: overloadValue & 2 ? '' : readCString(buf, SNAME_OFF, SNAME_LEN),
    file: overloadValue & 1 ? '' : readCString(buf, FILE_OFF, FILE_LEN),
    options: order.map((code) => ({ code, data: concat(map.get(code)!) })),
  };
}

function writeCString(out: Uint8Array, off: number, max: number, s: string, field: string): void {
  if (s.length >= max) throw new PacketValueError(field, `longer than ${max - 1} characters`);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c > 0xff) throw new PacketValueError(field, 'must be Latin-1 text without NUL');
    out[off + i] = c;
  }
}

/** Colon hex of up to 16 bytes (chaddr) into bytes. */
function parseChaddr(text: string): Uint8Array {
  const bad = () => new PacketValueError('dhcp.chaddr', `expected up to 16 colon-separated hex bytes, got ${text}`);
  if (typeof text !== 'string') throw bad();
  if (text === '') return new Uint8Array(0);
  if ((text.length + 1) % 3 !== 0 || text.length > 47) throw bad();
  const out = new Uint8Array((text.length + 1) / 3);
  for (let i = 0; i < out.length; i++) {
    const hi = Number.parseInt(text[i * 3]!, 16);
    const lo = Number.parseInt(text[i * 3 + 1]!, 16);
    if (Number.isNaN(hi) || Number.isNaN(lo) || (i < out.length - 1 && text[i * 3 + 2] !== ':')) throw bad();
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** Bytes the options take on the wire, long ones split into 255-byte pieces (RFC 3396), plus END. */
export function dhcpOptionsLength(options: readonly DhcpOption[]): number {
  let n = 1;
  for (const o of options) n += o.data.length === 0 ? 2 : o.data.length + 2 * Math.ceil(o.data.length / 255);
  return n;
}

/** Encodes a message; zero-padded to `minLength` (default BOOTP_MIN_LEN = 300). */
export function encodeDhcp(m: DhcpMessage, minLength = BOOTP_MIN_LEN): Uint8Array {
  const chaddr = parseChaddr(m.chaddr);
  const len = Math.max(OPTIONS_OFF + dhcpOptionsLength(m.options), minLength);
  const out = new Uint8Array(len);
  out[0] = checkUint(m.op, 8, 'dhcp.op');
  out[1] = checkUint(m.htype, 8, 'dhcp.htype');
  out[2] = chaddr.length;
  out[3] = checkUint(m.hops, 8, 'dhcp.hops');
  putU32(out, 4, checkUint(m.xid, 32, 'dhcp.xid'));
  putU16(out, 8, checkUint(m.secs, 16, 'dhcp.secs'));
  putU16(out, 10, checkUint(m.flags, 16, 'dhcp.flags'));
  writeIpv4(out, 12, m.ciaddr, 'dhcp.ciaddr');
  writeIpv4(out, 16, m.yiaddr, 'dhcp.yiaddr');
  writeIpv4(out, 20, m.siaddr, 'dhcp.siaddr');
  writeIpv4(out, 24, m.giaddr, 'dhcp.giaddr');
  out.set(chaddr, 28);
  writeCString(out, SNAME_OFF, SNAME_LEN, m.sname, 'dhcp.sname');
  writeCString(out, FILE_OFF, FILE_LEN, m.file, 'dhcp.file');
  putU32(out, DHCP_FIXED_LEN, DHCP_OPTIONS_COOKIE);
  let o = OPTIONS_OFF;
  for (const opt of m.options) {
    const code = checkUint(opt.code, 8, 'dhcp.options.code');
    if (code === DHO.PAD || code === DHO.END)
      throw new PacketValueError(`dhcp.options[${code}]`, 'PAD and END are written by the encoder');
    let rest = opt.data;
    do {
      const piece = rest.subarray(0, 255);
      out[o] = code;
      out[o + 1] = piece.length;
      out.set(piece, o + 2);
      o += 2 + piece.length;
      rest = rest.subarray(piece.length);
    } while (rest.length > 0);
  }
  out[o] = DHO.END;
  return out;
}

// ---- option values -------------------------------------------------------------------------

/** The data of option `code`, or undefined. */
export function getOption(m: Pick<DhcpMessage, 'options'>, code: number): Uint8Array | undefined {
  for (const o of m.options) if (o.code === code) return o.data;
  return undefined;
}

/** Option 53, or undefined when absent or not one byte. */
export function dhcpMessageType(m: Pick<DhcpMessage, 'options'>): number | undefined {
  const d = getOption(m, DHO.DHCP_MESSAGE_TYPE);
  return d?.length === 1 ? d[0] : undefined;
}

export function u8Option(code: number, v: number): DhcpOption {
  return { code, data: Uint8Array.of(checkUint(v, 8, `dhcp.options[${code}]`)) };
}

export function u16Option(code: number, v: number): DhcpOption {
  const data = new Uint8Array(2);
  putU16(data, 0, checkUint(v, 16, `dhcp.options[${code}]`));
  return { code, data };
}

export function u32Option(code: number, v: number): DhcpOption {
  const data = new Uint8Array(4);
  putU32(data, 0, checkUint(v, 32, `dhcp.options[${code}]`));
  return { code, data };
}

export function ipv4ListOption(code: number, addrs: readonly string[]): DhcpOption {
  const data = new Uint8Array(4 * addrs.length);
  addrs.forEach((a, i) => {
    writeIpv4(data, 4 * i, a, `dhcp.options[${code}][${i}]`);
  });
  return { code, data };
}

export function stringOption(code: number, s: string): DhcpOption {
  const data = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) throw new PacketValueError(`dhcp.options[${code}]`, 'must be ASCII');
    data[i] = c;
  }
  return { code, data };
}

/** Reads a u8/u16/u32 option; throws if the length is wrong. */
export function readUintOption(data: Uint8Array, bytes: 1 | 2 | 4, code: number): number {
  if (data.length !== bytes)
    throw new PacketMalformedError(`dhcp.options[${code}]`, `expected ${bytes} bytes, got ${data.length}`);
  return bytes === 1 ? data[0]! : bytes === 2 ? u16(data, 0) : u32(data, 0);
}

/** Reads a list of IPv4 addresses; `single` requires exactly one. */
export function readIpv4ListOption(data: Uint8Array, code: number): string[] {
  if (data.length === 0 || data.length % 4 !== 0) {
    throw new PacketMalformedError(`dhcp.options[${code}]`, `length ${data.length} is not a positive multiple of 4`);
  }
  const out: string[] = [];
  for (let i = 0; i < data.length; i += 4) out.push(formatIpv4(data, i));
  return out;
}

export function readIpv4Option(data: Uint8Array, code: number): string {
  if (data.length !== 4)
    throw new PacketMalformedError(`dhcp.options[${code}]`, `expected 4 bytes, got ${data.length}`);
  return formatIpv4(data, 0);
}

export function readStringOption(data: Uint8Array): string {
  // Some clients NUL-terminate strings (RFC 2132 §2 says they should not); drop the tail.
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  return String.fromCharCode(...data.subarray(0, end));
}

/** One RFC 3442 route: destination network/prefix via a router. */
export interface ClasslessRoute {
  network: string;
  prefix: number;
  router: string;
}

/** Encodes option 121: each route as prefix length, the significant octets of the destination, router. */
export function classlessRoutesOption(routes: readonly ClasslessRoute[]): DhcpOption {
  const parts: number[] = [];
  routes.forEach((r, i) => {
    const f = `dhcp.options[121][${i}]`;
    const mask = prefixToMask(checkUint(r.prefix, 6, `${f}.prefix`));
    const net = ipv4ToInt(r.network, `${f}.network`);
    if ((net & mask) >>> 0 !== net)
      throw new PacketValueError(`${f}.network`, `${r.network}/${r.prefix} has host bits set`);
    parts.push(r.prefix);
    const significant = Math.ceil(r.prefix / 8);
    for (let b = 0; b < significant; b++) parts.push((net >>> (24 - 8 * b)) & 0xff);
    const gw = ipv4ToInt(r.router, `${f}.router`);
    parts.push(gw >>> 24, (gw >>> 16) & 0xff, (gw >>> 8) & 0xff, gw & 0xff);
  });
  return { code: DHO.CLASSLESS_STATIC_ROUTE, data: Uint8Array.from(parts) };
}

export function readClasslessRoutes(data: Uint8Array): ClasslessRoute[] {
  const out: ClasslessRoute[] = [];
  let i = 0;
  while (i < data.length) {
    const prefix = data[i]!;
    const f = `dhcp.options[121][${out.length}]`;
    if (prefix > 32) throw new PacketMalformedError(`${f}.prefix`, `${prefix} > 32`);
    const significant = Math.ceil(prefix / 8);
    if (i + 1 + significant + 4 > data.length) throw new PacketTruncatedError(f, 1 + significant + 4, data.length - i);
    let net = 0;
    for (let b = 0; b < significant; b++) net |= data[i + 1 + b]! << (24 - 8 * b);
    net = (net & prefixToMask(prefix)) >>> 0;
    out.push({ network: intToIpv4(net), prefix, router: formatIpv4(data, i + 1 + significant) });
    i += 1 + significant + 4;
  }
  return out;
}
