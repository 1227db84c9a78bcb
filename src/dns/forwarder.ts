// Relays queries for names a DNS service's records do not hold to its upstream servers (public_dns), from the agent's
// own UDP socket on the host — as OpenVNet's vna did with its resolver. The host, not the VM, is the client the
// upstream sees: a VM cannot reach it otherwise (virtual networks are not routed to the host), and the VM can only
// make the agent ask the servers its operator configured.
import { randomInt } from 'node:crypto';
import { decodeDns, DNS_PORT, isPacketError, u16, withDnsId } from '../packet/index.js';

/** A UDP socket as the forwarder needs it (wire.ts binds node:dgram; tests may give a fault-injecting one). */
export interface UdpPort {
  send(data: Uint8Array, address: string, port: number): void;
  onMessage(listener: (data: Uint8Array, from: { address: string; port: number }) => void): void;
  close(): void;
}

export interface ForwarderOptions {
  /** How long one server has to answer before the next is asked (default 2 s). */
  timeoutMs?: number;
  /** Queries in flight at most; more are failed at once (the VMs' meters make this rare; default 1024). */
  maxPending?: number;
  /** A server that timed out is asked last for this long (OpenVNet's 60 s back-off; default 30 s). */
  backoffMs?: number;
  /** Upstream port (default 53; tests run servers elsewhere). */
  port?: number;
}

interface Pending {
  server: string;
  /** The question the answer must repeat (lower case name and type), so a stray datagram cannot answer it. */
  qname: string;
  qtype: number;
  settle: (answer: Uint8Array | null) => void;
}

export class DnsForwarder {
  readonly counters = { sent: 0, answered: 0, timeouts: 0, stray: 0, overloaded: 0 };
  private readonly pending = new Map<number, Pending>();
  private readonly downUntil = new Map<string, number>();
  private readonly timeoutMs: number;
  private readonly maxPending: number;
  private readonly backoffMs: number;
  private readonly port: number;

  constructor(
    private readonly socket: UdpPort,
    opts: ForwarderOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.maxPending = opts.maxPending ?? 1024;
    this.backoffMs = opts.backoffMs ?? 30_000;
    this.port = opts.port ?? DNS_PORT;
    socket.onMessage((data, from) => this.onAnswer(data, from));
  }

  /**
   * Asks the servers in turn (those in back-off last) until one answers; resolves with its answer under the query's
   * own id, or null when none did. `query` must decode (answerQuery decided to forward it).
   */
  async exchange(query: Uint8Array, servers: readonly string[]): Promise<Uint8Array | null> {
    const q = decodeDns(query);
    const question = q.questions[0];
    if (!question) return null;
    const now = Date.now();
    const order = [...servers].sort(
      (a, b) => Number((this.downUntil.get(a) ?? 0) > now) - Number((this.downUntil.get(b) ?? 0) > now),
    );
    for (const server of order) {
      if (this.pending.size >= this.maxPending) {
        this.counters.overloaded++;
        return null;
      }
      const answer = await this.ask(server, query, question.name.toLowerCase(), question.type);
      if (answer) {
        this.downUntil.delete(server);
        return withDnsId(answer, q.id);
      }
      this.downUntil.set(server, Date.now() + this.backoffMs);
    }
    return null;
  }

  close(): void {
    for (const p of this.pending.values()) p.settle(null);
    this.pending.clear();
    this.socket.close();
  }

  private ask(server: string, query: Uint8Array, qname: string, qtype: number): Promise<Uint8Array | null> {
    // A fresh random id per upstream query: the VM's own id would let two VMs' queries collide, and a predictable
    // one would let anyone on the path answer for the upstream.
    let id = randomInt(0x10000);
    while (this.pending.has(id)) id = randomInt(0x10000);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.counters.timeouts++;
        resolve(null);
      }, this.timeoutMs);
      this.pending.set(id, {
        server,
        qname,
        qtype,
        settle: (answer) => {
          clearTimeout(timer);
          resolve(answer);
        },
      });
      try {
        this.socket.send(withDnsId(query, id), server, this.port);
        this.counters.sent++;
      } catch {
        // Unreachable right now (no route, socket closed): the next server, or SERVFAIL.
        this.pending.delete(id);
        clearTimeout(timer);
        resolve(null);
      }
    });
  }

  private onAnswer(data: Uint8Array, from: { address: string; port: number }): void {
    if (data.length < 12) {
      this.counters.stray++;
      return;
    }
    const id = u16(data, 0);
    const p = this.pending.get(id);
    if (!p || from.address !== p.server || from.port !== this.port) {
      this.counters.stray++;
      return;
    }
    try {
      const m = decodeDns(data);
      const q = m.questions[0];
      if (!m.flags.qr || !q || q.name.toLowerCase() !== p.qname || q.type !== p.qtype) {
        this.counters.stray++;
        return;
      }
    } catch (e) {
      if (!isPacketError(e)) throw e;
      this.counters.stray++;
      return;
    }
    this.pending.delete(id);
    this.counters.answered++;
    p.settle(data);
  }
}
