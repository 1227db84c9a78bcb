// Switch connection: one OpenFlow 1.3 session — framing, HELLO/FEATURES handshake, xid correlation, echo
// keepalive, barriers, bundles, back-pressure. Accepting (switch-server.ts) and dialing (switch-client.ts) are apart.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Logger } from '../util/log.js';
import { Writer } from './buffer.js';
import { NXPIF, OFP_HEADER_LEN, OFP_VERSION, OFPBCT, OFPBF, OFPMPF_MORE, OFPT } from './constants.js';
import {
  ConnectionClosedError,
  OpenFlowDecodeError,
  type OpenFlowError,
  OpenFlowLibError,
  RequestTimeoutError,
} from './errors.js';
import {
  type AggregateStats,
  type AsyncConfig,
  appendMessage,
  decodeMessage,
  encodeMessage,
  type FlowStats,
  type FlowStatsRequest,
  type GroupDesc,
  type GroupMod,
  type MeterMod,
  type MultipartReplyBody,
  type MultipartRequestBody,
  type OFMessage,
  type PacketIn,
  type PortDesc,
  type PortStats,
  type SwitchDesc,
  type TableStats,
} from './messages.js';
import { FlowModsError, mergeParts, NO_REPLY, toOpenFlowError } from './replies.js';
import type { Action, FlowMod } from './types.js';

export interface SwitchConnectionOptions {
  logger?: Logger;
  /** Send ECHO_REQUEST after this long without receiving anything (ms). Default 5000. */
  echoIntervalMs?: number;
  /** Close when nothing at all was received for this long (ms). Default 15000. */
  idleTimeoutMs?: number;
  /** Handshake (HELLO + FEATURES) must finish within this (ms). Default 10000. */
  handshakeTimeoutMs?: number;
  /** Default per-request timeout (ms). Default 60000. */
  requestTimeoutMs?: number;
  /** Upper bound on one assembled multipart reply (bytes); more closes the connection. Default 512 MiB. */
  maxReplyBytes?: number;
  /** miss_send_len for SET_CONFIG after the handshake; default 0xffff (whole packets in packet-ins). */
  missSendLen?: number;
  /** Ask OVS for NXT_PACKET_IN2 (carries controller() userdata). Default false: standard OFPT_PACKET_IN. */
  packetIn2?: boolean;
}

export interface PortStatusEvent {
  reason: 'add' | 'delete' | 'modify';
  port: PortDesc;
}

export interface FlowRemovedEvent extends Extract<OFMessage, { type: 'flow_removed' }> {}

export interface SendFlowModsOptions {
  /** Apply all mods atomically through an ONF bundle (OF1.3 extension 230). */
  bundle?: boolean;
  timeoutMs?: number;
  /** Called once every flow-mod is written to the socket, before the barrier's reply is awaited (tracing). */
  onWritten?: () => void;
}

interface Pending {
  resolve: (m: OFMessage) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
  multipart?: { parts: MultipartReplyBody[]; bytes: number };
}

const PORT_REASONS = ['add', 'delete', 'modify'] as const;

export interface SwitchConnectionEvents {
  packetIn: [PacketIn];
  portStatus: [PortStatusEvent];
  flowRemoved: [FlowRemovedEvent];
  /** An error from the switch that matches no pending request. */
  switchError: [OpenFlowError & { xid: number }];
  /** Any other unsolicited message. */
  message: [OFMessage];
  close: [string];
}

/**
 * One OpenFlow 1.3 session with a switch. Created by OpenFlowServer or connectSwitch after the
 * handshake; `dpid` is known from then on. Never throws from socket callbacks: protocol faults
 * close the connection with a logged reason and reject everything pending.
 */
export class SwitchConnection extends EventEmitter<SwitchConnectionEvents> {
  dpid = 0n;
  nTables = 0;
  nBuffers = 0;
  capabilities = 0;
  readonly remote: string;
  /** Both ends of a TCP session (ours first), for telling who the peer is; null on other sockets. */
  readonly endpoints: { local: { address: string; port: number }; peer: { address: string; port: number } } | null;
  closed = false;
  closeReason = '';
  /** Counters for metrics and tests: frames and bytes received, bytes written. */
  readonly stats = { rxMessages: 0, rxBytes: 0, txBytes: 0 };
  private readonly socket: Socket;
  private readonly log: Logger | undefined;
  private readonly opts: Required<Omit<SwitchConnectionOptions, 'logger'>>;
  private nextXid = 1;
  private nextBundleId = 1;
  private readonly pending = new Map<number, Pending>();
  /** xids of messages sent without their own reply (flow mods in a batch): errors land here. */
  private readonly watched = new Map<number, (e: OpenFlowError) => void>();
  private chunks: Buffer[] = [];
  private buffered = 0;
  private lastRx = Date.now();
  private echoTimer: NodeJS.Timeout | undefined;
  private handshake:
    | { resolve: () => void; reject: (e: Error) => void; gotHello: boolean; featuresXid: number; timer: NodeJS.Timeout }
    | undefined;

  constructor(socket: Socket, opts: SwitchConnectionOptions = {}) {
    super();
    this.socket = socket;
    this.log = opts.logger;
    this.opts = {
      echoIntervalMs: opts.echoIntervalMs ?? 5000,
      idleTimeoutMs: opts.idleTimeoutMs ?? 15000,
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 10000,
      requestTimeoutMs: opts.requestTimeoutMs ?? 60000,
      maxReplyBytes: opts.maxReplyBytes ?? 512 * 1024 * 1024,
      missSendLen: opts.missSendLen ?? 0xffff,
      packetIn2: opts.packetIn2 ?? false,
    };
    this.remote = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : 'unix';
    this.endpoints =
      socket.remoteAddress && socket.localAddress && socket.remotePort && socket.localPort
        ? {
            local: { address: socket.localAddress, port: socket.localPort },
            peer: { address: socket.remoteAddress, port: socket.remotePort },
          }
        : null;
    socket.setNoDelay?.(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (e) => this.close(`socket error: ${e.message}`));
    socket.on('close', () => this.close('peer closed the connection'));
  }

  /** HELLO exchange, FEATURES (dpid), SET_CONFIG. Resolves when the session is usable. */
  async start(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.close('handshake timed out'), this.opts.handshakeTimeoutMs);
      this.handshake = { resolve, reject, gotHello: false, featuresXid: -1, timer };
    });
    // A write that fails (the peer went away mid-handshake: EPIPE) is met by `done`, which the close rejects;
    // left unhandled it would end the process.
    this.write(encodeMessage({ type: 'hello', xid: this.allocXid(), versions: [OFP_VERSION] })).catch(() => {});
    await done;
    this.echoTimer = setInterval(
      () => this.keepalive(),
      Math.max(50, Math.min(this.opts.echoIntervalMs, this.opts.idleTimeoutMs) / 2),
    );
    this.echoTimer.unref();
    // Failures here are met by the barrier below.
    this.send({ type: 'set_config', flags: 0, missSendLen: this.opts.missSendLen }).catch(() => {});
    if (this.opts.packetIn2)
      this.send({ type: 'nx_set_packet_in_format', format: NXPIF.NXT_PACKET_IN2 }).catch(() => {});
    await this.barrier();
    this.log?.info({ dpid: `0x${this.dpid.toString(16).padStart(16, '0')}`, remote: this.remote }, 'switch connected');
  }

  private allocXid(): number {
    const x = this.nextXid;
    this.nextXid = this.nextXid >= 0xfffffffe ? 1 : this.nextXid + 1;
    return x;
  }

  private keepalive(): void {
    if (this.closed) return;
    const idle = Date.now() - this.lastRx;
    if (idle >= this.opts.idleTimeoutMs) {
      this.close(`no message from the switch for ${idle} ms (echo timeout)`);
      return;
    }
    if (idle >= this.opts.echoIntervalMs)
      this.write(encodeMessage({ type: 'echo_request', xid: this.allocXid(), data: new Uint8Array() })).catch(() => {});
  }

  /** Socket write with back-pressure: resolves once the kernel buffer has room again. */
  private write(buf: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new ConnectionClosedError(this.closeReason));
    this.stats.txBytes += buf.length;
    const ok = this.socket.write(buf);
    if (ok) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        this.socket.off('close', onClose);
        resolve();
      };
      const onClose = () => {
        this.socket.off('drain', onDrain);
        reject(new ConnectionClosedError(this.closeReason || 'closed while writing'));
      };
      this.socket.once('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  // ------------------------------------------------------------ receive path

  private onData(d: Buffer): void {
    if (this.closed) return;
    this.lastRx = Date.now();
    this.chunks.push(d);
    this.buffered += d.length;
    try {
      this.drainFrames();
    } catch (e) {
      this.close(`internal error: ${(e as Error).message}`);
    }
  }

  private drainFrames(): void {
    while (!this.closed && this.buffered >= OFP_HEADER_LEN) {
      if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
      const buf = this.chunks[0] as Buffer;
      const version = buf[0] as number;
      const length = buf.readUInt16BE(2);
      const type = buf[1] as number;
      if (length < OFP_HEADER_LEN) {
        this.close(`malformed input: message length ${length} < 8`);
        return;
      }
      if (version !== OFP_VERSION && !(type === OFPT.HELLO || type === OFPT.ERROR)) {
        this.close(`malformed input: version 0x${version.toString(16)} after negotiating OpenFlow 1.3`);
        return;
      }
      if (this.buffered < length) return;
      const frame = new Uint8Array(buf.buffer, buf.byteOffset, length).slice();
      const rest = buf.subarray(length);
      this.chunks = rest.length ? [rest] : [];
      this.buffered = rest.length;
      this.onFrame(frame);
    }
  }

  private onFrame(frame: Uint8Array): void {
    this.stats.rxMessages++;
    this.stats.rxBytes += frame.length;
    const xid = new DataView(frame.buffer).getUint32(4);
    const type = frame[1] as number;
    let m: OFMessage;
    try {
      m = decodeMessage(frame);
    } catch (e) {
      const err = e instanceof OpenFlowLibError ? e : new OpenFlowDecodeError('message', (e as Error).message);
      const p = this.pending.get(xid);
      if (
        p &&
        (type === OFPT.MULTIPART_REPLY ||
          type === OFPT.BARRIER_REPLY ||
          type === OFPT.EXPERIMENTER ||
          type <= OFPT.ROLE_REPLY)
      ) {
        // The stream is still framed correctly: fail only the request this reply belongs to.
        this.settle(xid)?.reject(err);
        this.log?.warn({ xid, err: err.message }, 'undecodable reply');
        return;
      }
      this.close(`malformed input: ${err.message}`);
      return;
    }
    if (this.handshake) {
      this.onHandshakeMessage(m);
      return;
    }
    this.dispatch(m, frame.length);
  }

  private onHandshakeMessage(m: OFMessage): void {
    const hs = this.handshake;
    if (!hs) return;
    if (m.type === 'hello') {
      if (!m.versions.includes(OFP_VERSION)) {
        this.write(
          encodeMessage({
            type: 'error',
            xid: m.xid ?? 0,
            errType: 0,
            errCode: 0,
            data: new TextEncoder().encode('vnet speaks OpenFlow 1.3 only'),
          }),
        ).catch(() => {});
        this.close(`version negotiation failed: peer offers ${m.versions.join(',')}`);
        return;
      }
      hs.gotHello = true;
      hs.featuresXid = this.allocXid();
      this.write(encodeMessage({ type: 'features_request', xid: hs.featuresXid })).catch(() => {});
      return;
    }
    if (m.type === 'echo_request') {
      this.write(encodeMessage({ type: 'echo_reply', xid: m.xid ?? 0, data: m.data })).catch(() => {});
      return;
    }
    if (m.type === 'features_reply' && hs.gotHello && m.xid === hs.featuresXid) {
      this.dpid = m.datapathId;
      this.nTables = m.nTables;
      this.nBuffers = m.nBuffers;
      this.capabilities = m.capabilities;
      clearTimeout(hs.timer);
      this.handshake = undefined;
      hs.resolve();
      return;
    }
    if (m.type === 'error') {
      const e = toOpenFlowError(m);
      this.close(`handshake rejected by the switch: ${e.typeName}/${e.codeName}`);
      return;
    }
    // Anything else before FEATURES_REPLY (e.g. an early port status) is not for us yet.
    this.log?.debug({ type: m.type }, 'message during handshake ignored');
  }

  private settle(xid: number): Pending | undefined {
    const p = this.pending.get(xid);
    if (!p) return undefined;
    this.pending.delete(xid);
    if (p.timer) clearTimeout(p.timer);
    return p;
  }

  private dispatch(m: OFMessage, size: number): void {
    const xid = m.xid ?? 0;
    switch (m.type) {
      case 'echo_request':
        this.write(encodeMessage({ type: 'echo_reply', xid, data: m.data })).catch(() => {});
        return;
      case 'echo_reply':
        return;
      case 'error': {
        const e = toOpenFlowError(m);
        const w = this.watched.get(xid);
        if (w) {
          w(e);
          return;
        }
        const p = this.settle(xid);
        if (p) {
          p.reject(e);
          return;
        }
        this.log?.warn({ xid, type: e.typeName, code: e.codeName }, 'unsolicited error from switch');
        this.emit('switchError', Object.assign(e, { xid }));
        return;
      }
      case 'packet_in': {
        const { type: _t, xid: _x, ...pi } = m;
        this.emit('packetIn', pi);
        return;
      }
      case 'port_status':
        this.emit('portStatus', { reason: PORT_REASONS[m.reason] ?? 'modify', port: m.port });
        return;
      case 'flow_removed':
        this.emit('flowRemoved', m);
        return;
      case 'multipart_reply': {
        const p = this.pending.get(xid);
        if (!p) {
          this.emit('message', m);
          return;
        }
        p.multipart ??= { parts: [], bytes: 0 };
        p.multipart.parts.push(m.body);
        p.multipart.bytes += size;
        if (p.multipart.bytes > this.opts.maxReplyBytes) {
          this.close(`oversized input: multipart reply over ${this.opts.maxReplyBytes} bytes`);
          return;
        }
        if (m.flags & OFPMPF_MORE) return;
        this.settle(xid)?.resolve({ ...m, body: mergeParts(p.multipart.parts) });
        return;
      }
      default: {
        const p = this.settle(xid);
        if (p) p.resolve(m);
        else this.emit('message', m);
      }
    }
  }

  // ------------------------------------------------------------ send path

  /** Send a message that expects no reply (errors for it surface as `switchError`). */
  send(m: OFMessage): Promise<void> {
    try {
      return this.write(encodeMessage({ ...m, xid: m.xid ?? this.allocXid() }));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private expect(xid: number, what: string, timeoutMs: number): Promise<OFMessage> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new ConnectionClosedError(this.closeReason));
        return;
      }
      const p: Pending = { resolve, reject };
      if (timeoutMs > 0) {
        p.timer = setTimeout(() => {
          this.pending.delete(xid);
          reject(new RequestTimeoutError(what, timeoutMs));
        }, timeoutMs);
      }
      this.pending.set(xid, p);
    });
  }

  /**
   * Send a request and resolve with its reply. Messages without a reply of their own (flow_mod,
   * packet_out, ...) are followed by a barrier and resolve with the barrier reply. An OFPT_ERROR
   * for the request rejects with OpenFlowError. Multipart replies are assembled into one.
   */
  async request(m: OFMessage, opts: { timeoutMs?: number } = {}): Promise<OFMessage> {
    const timeoutMs = opts.timeoutMs ?? this.opts.requestTimeoutMs;
    const xid = this.allocXid();
    const msg = { ...m, xid } as OFMessage;
    const buf = encodeMessage(msg);
    if (!NO_REPLY.has(m.type)) {
      const reply = this.expect(xid, m.type, timeoutMs);
      // A failed write (EPIPE) throws below; the close rejects `reply` too, which must not go unhandled.
      reply.catch(() => {});
      await this.write(buf);
      return reply;
    }
    let failed: OpenFlowError | undefined;
    this.watched.set(xid, (e) => {
      failed ??= e;
    });
    try {
      const bx = this.allocXid();
      const reply = this.expect(bx, `${m.type} barrier`, timeoutMs);
      reply.catch(() => {}); // as above: the write may fail first
      const w = new Writer(buf.length + 8);
      w.bytes(buf);
      appendMessage(w, { type: 'barrier_request', xid: bx });
      await this.write(w.finish());
      const r = await reply;
      if (failed) throw failed;
      return r;
    } finally {
      this.watched.delete(xid);
    }
  }

  async barrier(timeoutMs = this.opts.requestTimeoutMs): Promise<void> {
    await this.request({ type: 'barrier_request' }, { timeoutMs });
  }

  /**
   * Send flow mods in large writes and end with a barrier; resolves when the switch has processed
   * all of them. With `bundle: true` they are applied atomically (all or none) via an ONF bundle.
   * Rejects with FlowModsError listing every rejected mod by index.
   */
  async sendFlowMods(mods: readonly FlowMod[], opts: SendFlowModsOptions = {}): Promise<void> {
    if (mods.length === 0) return;
    const timeoutMs = opts.timeoutMs ?? this.opts.requestTimeoutMs;
    const failures: { index: number; error: OpenFlowError }[] = [];
    const xids: number[] = [];
    const bundleId = opts.bundle ? this.nextBundleId++ : 0;
    const flags = OFPBF.ATOMIC | OFPBF.ORDERED;
    try {
      // Encode everything first: a mod that cannot be encoded fails the call before anything is sent.
      const chunks: Uint8Array[] = [];
      let w = new Writer(256 * 1024);
      for (let i = 0; i < mods.length; i++) {
        const xid = this.allocXid();
        xids.push(xid);
        const mod = mods[i] as FlowMod;
        appendMessage(
          w,
          opts.bundle
            ? { type: 'bundle_add', xid, bundleId, flags, message: { type: 'flow_mod', ...mod } }
            : { type: 'flow_mod', xid, ...mod },
        );
        if (w.pos >= 192 * 1024) {
          chunks.push(w.finish());
          w = new Writer(256 * 1024);
        }
      }
      if (w.pos) chunks.push(w.finish());
      for (const [index, xid] of xids.entries()) {
        this.watched.set(xid, (error) => {
          failures.push({ index, error });
        });
      }
      if (opts.bundle) {
        const r = await this.request(
          { type: 'bundle_control', bundleId, ctrlType: OFPBCT.OPEN_REQUEST, flags },
          { timeoutMs },
        );
        if (r.type !== 'bundle_control' || r.ctrlType !== OFPBCT.OPEN_REPLY) {
          throw new OpenFlowDecodeError('bundle_control', `unexpected reply ${r.type}`);
        }
      }
      // Back-pressure: each write waits for the socket to drain when the kernel buffer is full.
      for (const c of chunks) await this.write(c);
      opts.onWritten?.();
      if (opts.bundle) {
        // OVS checks each message when it is added and leaves a bad one out of the bundle, so a
        // commit would apply the rest: wait (barrier) for add errors, and discard if there are any.
        await this.barrier(timeoutMs);
        const ctrlType = failures.length ? OFPBCT.DISCARD_REQUEST : OFPBCT.COMMIT_REQUEST;
        const want = failures.length ? OFPBCT.DISCARD_REPLY : OFPBCT.COMMIT_REPLY;
        try {
          const r = await this.request({ type: 'bundle_control', bundleId, ctrlType, flags }, { timeoutMs });
          if (r.type !== 'bundle_control' || r.ctrlType !== want)
            throw new OpenFlowDecodeError('bundle_control', `unexpected reply ${r.type}`);
        } catch (e) {
          if (failures.length === 0) throw e;
        }
      } else {
        await this.barrier(timeoutMs);
      }
    } finally {
      for (const x of xids) this.watched.delete(x);
    }
    if (failures.length) {
      failures.sort((a, b) => a.index - b.index);
      throw new FlowModsError(failures, (failures[0] as { error: OpenFlowError }).error);
    }
  }

  async multipart(body: MultipartRequestBody, timeoutMs?: number): Promise<MultipartReplyBody> {
    const r = await this.request(
      { type: 'multipart_request', ...body } as OFMessage,
      timeoutMs === undefined ? {} : { timeoutMs },
    );
    if (r.type !== 'multipart_reply') throw new OpenFlowDecodeError('multipart_reply', `unexpected ${r.type}`);
    return r.body;
  }

  /** A multipart request whose reply must be of the same kind; `what` names that kind in the error. */
  private async multipartOf<T extends MultipartRequestBody['mpType']>(
    body: Extract<MultipartRequestBody, { mpType: T }>,
    what: string,
  ): Promise<Extract<MultipartReplyBody, { mpType: T }>> {
    const b = await this.multipart(body);
    if (b.mpType !== body.mpType) throw new OpenFlowDecodeError('multipart_reply', `expected ${what}, got ${b.mpType}`);
    return b as Extract<MultipartReplyBody, { mpType: T }>;
  }

  /** Flow stats: every flow (optionally of one table / cookie under mask) with counters. */
  async dumpFlows(q: FlowStatsRequest = {}): Promise<FlowStats[]> {
    return (await this.multipartOf({ mpType: 'flow', request: q }, 'flow stats')).flows;
  }

  async aggregateStats(q: FlowStatsRequest = {}): Promise<AggregateStats> {
    return (await this.multipartOf({ mpType: 'aggregate', request: q }, 'aggregate')).stats;
  }

  async tableStats(): Promise<TableStats[]> {
    return (await this.multipartOf({ mpType: 'table' }, 'table stats')).tables;
  }

  async portStats(portNo = 0xffffffff): Promise<PortStats[]> {
    return (await this.multipartOf({ mpType: 'port_stats', portNo }, 'port stats')).ports;
  }

  async portDesc(): Promise<PortDesc[]> {
    return (await this.multipartOf({ mpType: 'port_desc' }, 'port desc')).ports;
  }

  async desc(): Promise<SwitchDesc> {
    return (await this.multipartOf({ mpType: 'desc' }, 'desc')).desc;
  }

  async groupDesc(): Promise<GroupDesc[]> {
    return (await this.multipartOf({ mpType: 'group_desc' }, 'group desc')).groups;
  }

  /** Send a packet: `data` is the whole Ethernet frame; inPort defaults to OFPP_CONTROLLER. */
  async packetOut(p: { inPort?: number; actions: Action[]; data: Uint8Array; bufferId?: number }): Promise<void> {
    const m: OFMessage = { type: 'packet_out', inPort: p.inPort ?? 0xfffffffd, actions: p.actions, data: p.data };
    if (p.bufferId !== undefined) m.bufferId = p.bufferId;
    await this.request(m);
  }

  async groupMod(g: GroupMod): Promise<void> {
    await this.request({ type: 'group_mod', ...g });
  }

  async meterMod(mm: MeterMod): Promise<void> {
    await this.request({ type: 'meter_mod', ...mm });
  }

  async portMod(p: {
    portNo: number;
    hwAddr: bigint;
    config: number;
    mask: number;
    advertise?: number;
  }): Promise<void> {
    await this.request({
      type: 'port_mod',
      portNo: p.portNo,
      hwAddr: p.hwAddr,
      config: p.config,
      mask: p.mask,
      advertise: p.advertise ?? 0,
    });
  }

  async setAsync(a: AsyncConfig): Promise<void> {
    await this.request({ type: 'set_async', ...a });
  }

  async getAsync(): Promise<AsyncConfig> {
    const r = await this.request({ type: 'get_async_request' });
    if (r.type !== 'get_async_reply') throw new OpenFlowDecodeError('get_async_reply', `unexpected ${r.type}`);
    return { packetInMask: r.packetInMask, portStatusMask: r.portStatusMask, flowRemovedMask: r.flowRemovedMask };
  }

  /** OFPT_ROLE_REQUEST; resolves with the role the switch reports. */
  async role(role: number, generationId = 0n): Promise<{ role: number; generationId: bigint }> {
    const r = await this.request({ type: 'role_request', role, generationId });
    if (r.type !== 'role_reply') throw new OpenFlowDecodeError('role_reply', `unexpected ${r.type}`);
    return { role: r.role, generationId: r.generationId };
  }

  /** Close the session (idempotent); pending requests reject with ConnectionClosedError(reason). */
  close(reason = 'closed by vnet'): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    if (this.echoTimer) clearInterval(this.echoTimer);
    const err = new ConnectionClosedError(reason);
    if (this.handshake) {
      clearTimeout(this.handshake.timer);
      this.handshake.reject(err);
      this.handshake = undefined;
    }
    for (const [xid, p] of this.pending) {
      if (p.timer) clearTimeout(p.timer);
      this.pending.delete(xid);
      p.reject(err);
    }
    this.watched.clear();
    this.chunks = [];
    this.buffered = 0;
    const level = reason === 'closed by vnet' ? 'info' : 'warn';
    this.log?.[level]({ dpid: `0x${this.dpid.toString(16)}`, remote: this.remote, reason }, 'switch connection closed');
    this.socket.destroy();
    this.emit('close', reason);
  }
}
