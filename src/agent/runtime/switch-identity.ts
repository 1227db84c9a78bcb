// Who is at the other end of a switch connection: on Linux, the local process that owns the peer socket
// (/proc/net/tcp gives its inode, /proc/<pid>/fd the process, /proc/<pid>/exe its program). Any local process
// can connect to 127.0.0.1:6633 and claim the bridge's dpid; only ovs-vswitchd is taken for the switch.
import { readdir, readFile, readlink } from 'node:fs/promises';
import { basename } from 'node:path';

export interface Endpoint {
  address: string;
  port: number;
}

/** The peer's program, or why it could not be told (a remote peer, or /proc not readable: never refused). */
export type PeerVerdict =
  | { kind: 'switch'; pid: number; exe: string }
  | { kind: 'other'; pid: number | null; exe: string | null }
  | { kind: 'unknown'; reason: string };

/** `a.b.c.d:port` as /proc/net/tcp writes it: the address's 32-bit word in host (little-endian) order, hex. */
function procAddress(e: Endpoint): string | null {
  const m = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(e.address);
  if (!m) return null;
  const hex = [m[4], m[3], m[2], m[1]].map((o) => Number(o).toString(16).padStart(2, '0')).join('');
  return `${hex}:${e.port.toString(16).padStart(4, '0')}`.toUpperCase();
}

/** The inode of the socket whose local end is `local` and remote end is `remote`, or null. */
async function socketInode(local: Endpoint, remote: Endpoint): Promise<number | null> {
  const l = procAddress(local);
  const r = procAddress(remote);
  if (!l || !r) return null;
  const text = await readFile('/proc/net/tcp', 'utf8');
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === l && f[2] === r) return Number(f[9]);
  }
  return null;
}

async function ownsSocket(pid: string, inode: number): Promise<boolean> {
  const want = `socket:[${inode}]`;
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  // All at once: a bridge with 1,000 ports holds thousands of descriptors, and one await after the other cost
  // seconds of a restarted agent's time on a loaded machine (the new socket takes the lowest free number: anywhere).
  const links = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
  return links.includes(want);
}

const isSwitchProgram = (exe: string) => basename(exe).replace(/ \(deleted\)$/, '') === 'ovs-vswitchd';

/**
 * Looks at the process behind the connection from `peer` to `ours` (our listener's end). ovs-vswitchd
 * processes are searched first (a handful), so accepting the real switch is cheap; anything else is named for
 * the log.
 */
export async function identifyPeer(ours: Endpoint, peer: Endpoint): Promise<PeerVerdict> {
  let inode: number | null;
  try {
    inode = await socketInode(peer, ours);
  } catch (e) {
    return { kind: 'unknown', reason: `cannot read /proc/net/tcp: ${(e as Error).message}` };
  }
  if (inode === null || inode === 0)
    return { kind: 'unknown', reason: `${peer.address}:${peer.port} is not a local IPv4 socket of this namespace` };
  const pids = (await readdir('/proc')).filter((p) => /^\d+$/.test(p));
  const comm = async (pid: string) => (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
  const exe = async (pid: string) => readlink(`/proc/${pid}/exe`).catch(() => null);
  const names = await Promise.all(pids.map(comm));
  const switches = pids.filter((_, i) => names[i]!.startsWith('ovs-vswitchd'));
  for (const pid of switches)
    if (await ownsSocket(pid, inode)) {
      const path = await exe(pid);
      if (path && isSwitchProgram(path)) return { kind: 'switch', pid: Number(pid), exe: path };
      return { kind: 'other', pid: Number(pid), exe: path };
    }
  for (const pid of pids)
    if (!switches.includes(pid) && (await ownsSocket(pid, inode)))
      return { kind: 'other', pid: Number(pid), exe: await exe(pid) };
  return { kind: 'unknown', reason: `no process found owning socket ${inode} (not root?)` };
}
