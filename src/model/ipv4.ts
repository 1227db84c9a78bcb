// IPv4 helpers on uint32 numbers: subnet membership and alignment checks used by validation.
import ipaddr from 'ipaddr.js';

export function ipToInt(s: string): number {
  const b = ipaddr.IPv4.parse(s).octets;
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

export function intToIp(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** True when `ip` lies in `network/prefix`. */
export function inSubnet(ip: string, network: string, prefix: number): boolean {
  const m = maskOf(prefix);
  return (ipToInt(ip) & m) >>> 0 === (ipToInt(network) & m) >>> 0;
}

/** True when `network` has no host bits set for `prefix`. */
export function isAligned(network: string, prefix: number): boolean {
  return (ipToInt(network) & ~maskOf(prefix)) >>> 0 === 0;
}

/** Network or broadcast address of a subnet that has them (prefix <= 30). */
export function isNetworkOrBroadcast(ip: string, network: string, prefix: number): boolean {
  if (prefix > 30) return false;
  const n = ipToInt(ip);
  const base = (ipToInt(network) & maskOf(prefix)) >>> 0;
  const bcast = (base | ~maskOf(prefix)) >>> 0;
  return n === base || n === bcast;
}
