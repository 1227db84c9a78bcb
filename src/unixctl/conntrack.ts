// ovs-vswitchd's connection tracker as its dpctl/ unixctl commands show it (lib/dpctl.c): how many connections a
// zone holds, and how full the whole table is. OVS 3.1's userspace conntrack counts nothing when it cannot
// translate a connection (no free port): these are the usage figures; the refusals are counted by the agent's
// own flows.
import { type UnixctlCallOptions, unixctlCall } from './client.js';
import { UnixctlError } from './errors.js';

/** Connections in conntrack zone `zone` (`dpctl/ct-stats-show zone=N`'s Total; OVS dumps the zone to count). */
export async function conntrackZoneConnections(
  socketPath: string,
  zone: number,
  opts: UnixctlCallOptions = {},
): Promise<number> {
  const text = await unixctlCall(socketPath, 'dpctl/ct-stats-show', [`zone=${zone}`], opts);
  return parseCtStatsTotal(text);
}

/** The whole table: connections (`dpctl/ct-get-nconns`) and the most it admits (`dpctl/ct-get-maxconns`). */
export async function conntrackTable(
  socketPath: string,
  opts: UnixctlCallOptions = {},
): Promise<{ connections: number; max: number }> {
  const [n, max] = await Promise.all([
    unixctlCall(socketPath, 'dpctl/ct-get-nconns', [], opts),
    unixctlCall(socketPath, 'dpctl/ct-get-maxconns', [], opts),
  ]);
  return { connections: parseCount(n, 'dpctl/ct-get-nconns'), max: parseCount(max, 'dpctl/ct-get-maxconns') };
}

/** `Connections Stats:\n    Total: 3\n  TCP: 2…` → 3 (an empty zone prints Total: 0). */
export function parseCtStatsTotal(text: string): number {
  const m = /^\s*Total:\s*(\d+)\s*$/m.exec(text);
  if (!m)
    throw new UnixctlError(
      'protocol',
      `dpctl/ct-stats-show answered without a Total: ${JSON.stringify(text.slice(0, 200))}`,
      'dpctl/ct-stats-show',
    );
  return Number(m[1]);
}

function parseCount(text: string, method: string): number {
  const t = text.trim();
  if (!/^\d+$/.test(t))
    throw new UnixctlError('protocol', `${method} answered ${JSON.stringify(t.slice(0, 200))}, not a count`, method);
  return Number(t);
}
