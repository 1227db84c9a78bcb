// Switch connection: framing, HELLO/FEATURES handshake, xid correlation, echo keepalive, barriers, bundles,
// back-pressure; plus OpenFlowServer (listens for switches) and connectSwitch (dials a bridge's mgmt socket).
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket, connect as netConnect } from 'node:net';
import { Backoff } from '../util/backoff.js';
import type { Logger } from '../util/log.js';
import { Writer } from './buffer.js';
import { errorNames, NXPIF, OFP_HEADER_LEN, OFP_VERSION, OFPBCT, OFPBF, OFPMPF_MORE, OFPT } from './constants.js';
import {
  ConnectionClosedError,
  OpenFlowDecodeError,
  OpenFlowError,
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
}

/** sendFlowMods failed: the first error, plus every failed mod with its index. */
export class FlowModsError extends OpenFlowError {
  readonly failures: { index: number; error: OpenFlowError }[];
  constructor(failures: { index: number; error: OpenFlowError }[], first: OpenFlowError) {
    super(first.type, first.errCode, first.typeName, first.codeName, first.data);
    this.failures = failures;
    this.message = `${failures.length} flow mod(s) rejected; first (#${failures[0]?.index}): ${first.typeName}/${first.codeName}`;
  }
}

interface Pending {
  resolve: (m: OFMessage) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
  multipart?: { parts: MultipartReplyBody[]; bytes: number };
}

const NO_REPLY = new Set<OFMessage['type']>([
  'flow_mod',
  'group_mod',
  'port_mod',
  'meter_mod',
  'packet_out',
  'set_config',
  'set_async',
  'nx_set_packet_in_format',
  'bundle_add',
]);

const PORT_REASONS = ['add', 'delete', 'modify'] as const;

function toOpenFlowError(m: Extract<OFMessage, { type: 'error' }>): OpenFlowError {
  const { typeName, codeName } = errorNames(m.errType, m.errCode, m.experimenter);
  return new OpenFlowError(m.errType, m.errCode, typeName, codeName, m.data);
}

function mergeParts(parts: MultipartReplyBody[]): MultipartReplyBody {
  const first = parts[0];
  if (!first) throw new OpenFlowDecodeError('multipart', 'empty reply');
  if (parts.length === 1) return first;
  switch (first.mpType) {
    case 'flow':
      return { mpType: 'flow', flows: parts.flatMap((p) => (p.mpType === 'flow' ? p.flows : [])) };
    case 'table':
      return { mpType: 'table', tables: parts.flatMap((p) => (p.mpType === 'table' ? p.tables : [])) };
    case 'port_stats':
      return { mpType: 'port_stats', ports: parts.flatMap((p) => (p.mpType === 'port_stats' ? p.ports : [])) };
    case 'group_desc':
      return { mpType: 'group_desc', groups: parts.flatMap((p) => (p.mpType === 'group_desc' ? p.groups : [])) };
    case 'port_desc':
      return { mpType: 'port_desc', ports: parts.flatMap((p) => (p.mpType === 'port_desc' ? p.ports : [])) };
    default:
      return first;
  }
}

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
    this.write(encodeMessage({ type: 'hello', xid: this.allocXid(), versions: [OFP_VERSION] }));
    await done;
    this.echoTimer = setInterval(
      () => this.keepalive(),
      Math.max(50, Math.min(this.opts.echoIntervalMs, this.opts.idleTimeoutMs) / 2),
    );
    this.echoTimer.unref();
    this.send({ type: 'set_config', flags: 0, missSendLen: this.opts.missSendLen });
    if (this.opts.packetIn2) this.send({ type: 'nx_set_packet_in_format', format: NXPIF.NXT_PACKET_IN2 });
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
      this.write(encodeMessage({ type: 'echo_request', xid: this.allocXid(), data: new Uint8Array() }));
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

  /** Flow stats: every flow (optionally of one table / cookie under mask) with counters. */
  async dumpFlows(q: FlowStatsRequest = {}): Promise<FlowStats[]> {
    const b = await this.multipart({ mpType: 'flow', request: q });
    if (b.mpType !== 'flow') throw new OpenFlowDecodeError('multipart_reply', `expected flow stats, got ${b.mpType}`);
    return b.flows;
  }

  async aggregateStats(q: FlowStatsRequest = {}): Promise<AggregateStats> {
    const b = await this.multipart({ mpType: 'aggregate', request: q });
    if (b.mpType !== 'aggregate')
      throw new OpenFlowDecodeError('multipart_reply', `expected aggregate, got ${b.mpType}`);
    return b.stats;
  }

  async tableStats(): Promise<TableStats[]> {
    const b = await this.multipart({ mpType: 'table' });
    if (b.mpType !== 'table') throw new OpenFlowDecodeError('multipart_reply', `expected table stats, got ${b.mpType}`);
    return b.tables;
  }

  async portStats(portNo = 0xffffffff): Promise<PortStats[]> {
    const b = await this.multipart({ mpType: 'port_stats', portNo });
    if (b.mpType !== 'port_stats')
      throw new OpenFlowDecodeError('multipart_reply', `expected port stats, got ${b.mpType}`);
    return b.ports;
  }

  async portDesc(): Promise<PortDesc[]> {
    const b = await this.multipart({ mpType: 'port_desc' });
    if (b.mpType !== 'port_desc')
      throw new OpenFlowDecodeError('multipart_reply', `expected port desc, got ${b.mpType}`);
    return b.ports;
  }

  async desc(): Promise<SwitchDesc> {
    const b = await this.multipart({ mpType: 'desc' });
    if (b.mpType !== 'desc') throw new OpenFlowDecodeError('multipart_reply', `expected desc, got ${b.mpType}`);
    return b.desc;
  }

  async groupDesc(): Promise<GroupDesc[]> {
    const b = await this.multipart({ mpType: 'group_desc' });
    if (b.mpType !== 'group_desc')
      throw new OpenFlowDecodeError('multipart_reply', `expected group desc, got ${b.mpType}`);
    return b.groups;
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

// ---------------------------------------------------------------- server and client

export interface OpenFlowServerOptions extends SwitchConnectionOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 6633 (OpenVNet's port); 0 picks a free one. */
  port?: number;
}

export interface OpenFlowServerEvents {
  connection: [SwitchConnection];
  /** A switch connected but the handshake failed. */
  handshakeError: [Error];
}

/** Listens for switches (ovs-vswitchd connects to its controller); emits each after its handshake. */
export class OpenFlowServer extends EventEmitter<OpenFlowServerEvents> {
  readonly connections = new Set<SwitchConnection>();
  private readonly server: Server;
  private readonly opts: OpenFlowServerOptions;

  constructor(opts: OpenFlowServerOptions = {}) {
    super();
    this.opts = opts;
    this.server = createServer((socket) => {
      const conn = new SwitchConnection(socket, opts);
      conn.on('close', () => this.connections.delete(conn));
      conn.start().then(
        () => {
          if (conn.closed) return;
          this.connections.add(conn);
          this.emit('connection', conn);
        },
        (e: Error) => {
          opts.logger?.warn({ err: e.message, remote: conn.remote }, 'switch handshake failed');
          if (this.listenerCount('handshakeError')) this.emit('handshakeError', e);
        },
      );
    });
  }

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? 6633, this.opts.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        const a = this.server.address();
        if (a && typeof a === 'object') resolve({ host: a.address, port: a.port });
        else reject(new Error('no listening address'));
      });
    });
  }

  /** Wait for the next connection from a switch with this dpid (or any, when omitted). */
  waitFor(dpid?: bigint, timeoutMs = 30000): Promise<SwitchConnection> {
    for (const c of this.connections) if (dpid === undefined || c.dpid === dpid) return Promise.resolve(c);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.off('connection', on);
        reject(
          new RequestTimeoutError(`switch ${dpid === undefined ? '' : `0x${dpid.toString(16)} `}connection`, timeoutMs),
        );
      }, timeoutMs);
      const on = (c: SwitchConnection) => {
        if (dpid !== undefined && c.dpid !== dpid) return;
        clearTimeout(t);
        this.off('connection', on);
        resolve(c);
      };
      this.on('connection', on);
    });
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.close('server shutting down');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Dial a switch: `unix:/path/br0.mgmt` (a bridge's punix: management socket) or `tcp:HOST:PORT`
 * (a ptcp: controller target). Resolves after the handshake.
 */
export async function connectSwitch(target: string, opts: SwitchConnectionOptions = {}): Promise<SwitchConnection> {
  let socket: Socket;
  if (target.startsWith('unix:')) socket = netConnect({ path: target.slice(5) });
  else if (target.startsWith('tcp:')) {
    const rest = target.slice(4);
    const i = rest.lastIndexOf(':');
    const port = Number(rest.slice(i + 1));
    if (i < 0 || !Number.isInteger(port) || port <= 0 || port > 65535)
      throw new OpenFlowLibError('OF_TARGET', `bad target ${target}: want tcp:HOST:PORT`);
    socket = netConnect({ host: rest.slice(0, i), port });
  } else {
    throw new OpenFlowLibError('OF_TARGET', `bad target ${target}: want unix:PATH or tcp:HOST:PORT`);
  }
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve();
    });
    socket.once('error', (e) => reject(new ConnectionClosedError(`cannot connect to ${target}: ${e.message}`)));
  });
  const conn = new SwitchConnection(socket, opts);
  await conn.start();
  return conn;
}

export interface SwitchClientOptions extends SwitchConnectionOptions {
  /** First retry delay (ms), doubled per failure up to maxBackoffMs. Default 100. */
  minBackoffMs?: number;
  /** Default 5000. */
  maxBackoffMs?: number;
}

export interface SwitchClientEvents {
  connected: [SwitchConnection];
  disconnected: [string];
}

/**
 * Keeps a session with a switch we dial (a bridge's punix: mgmt socket or ptcp:): connects,
 * and after any failure or close reconnects with exponential backoff until stop().
 */
export class SwitchClient extends EventEmitter<SwitchClientEvents> {
  current: SwitchConnection | undefined;
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;

  constructor(
    readonly target: string,
    private readonly opts: SwitchClientOptions = {},
  ) {
    super();
    this.backoff = new Backoff({ initialMs: opts.minBackoffMs ?? 100, maxMs: opts.maxBackoffMs ?? 5000 });
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt();
  }

  private attempt(): void {
    if (this.stopped) return;
    connectSwitch(this.target, this.opts).then(
      (conn) => {
        if (this.stopped) {
          conn.close('switch client stopped');
          return;
        }
        this.backoff.reset();
        this.current = conn;
        conn.once('close', (reason) => {
          if (this.current === conn) this.current = undefined;
          this.emit('disconnected', reason);
          this.retry();
        });
        this.emit('connected', conn);
      },
      (e: Error) => {
        this.opts.logger?.debug({ target: this.target, err: e.message }, 'switch connect failed; will retry');
        this.retry();
      },
    );
  }

  private retry(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.attempt(), this.backoff.next());
  }

  /** The current session, or the next one to come up. */
  waitConnected(timeoutMs = 30000): Promise<SwitchConnection> {
    if (this.current && !this.current.closed) return Promise.resolve(this.current);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.off('connected', on);
        reject(new RequestTimeoutError(`connection to ${this.target}`, timeoutMs));
      }, timeoutMs);
      const on = (c: SwitchConnection) => {
        clearTimeout(t);
        resolve(c);
      };
      this.once('connected', on);
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.current?.close('switch client stopped');
    this.current = undefined;
  }
}
