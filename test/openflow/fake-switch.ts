// A scriptable fake switch (fault-injecting peer) for error-path and fuzz tests of SwitchConnection.
import { connect, type Socket } from 'node:net';
import { decodeMessage, encodeMessage, type OFMessage } from '../../src/openflow/index.js';

export interface FakeSwitchOptions {
  port: number;
  dpid?: bigint;
  /** Skip our HELLO (to test handshake timeouts). */
  noHello?: boolean;
  /** Version bitmap to offer. */
  versions?: number[];
  /** Answer requests (features, barrier, echo) automatically. Default true. */
  answer?: boolean;
  /** Reply to a multipart request (return undefined to stay silent). */
  onMultipart?: (m: Extract<OFMessage, { type: 'multipart_request' }>) => Uint8Array[] | undefined;
}

export class FakeSwitch {
  readonly socket: Socket;
  readonly received: OFMessage[] = [];
  closed = false;
  private buf = Buffer.alloc(0);

  private constructor(
    socket: Socket,
    private readonly opts: FakeSwitchOptions,
  ) {
    this.socket = socket;
    socket.on('data', (d) => this.onData(d));
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => {
      this.closed = true;
    });
  }

  static open(opts: FakeSwitchOptions): Promise<FakeSwitch> {
    return new Promise((resolve, reject) => {
      const s = connect({ port: opts.port, host: '127.0.0.1' }, () => {
        const f = new FakeSwitch(s, opts);
        if (!opts.noHello) f.send({ type: 'hello', xid: 1, versions: opts.versions ?? [4] });
        resolve(f);
      });
      s.once('error', reject);
    });
  }

  send(m: OFMessage): void {
    this.write(encodeMessage(m));
  }

  write(b: Uint8Array): boolean {
    if (this.closed) return false;
    return this.socket.write(b);
  }

  /** Resolves when the socket can take more (back-pressure on our side of the fake). */
  drained(): Promise<void> {
    if (this.closed || !this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((r) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        r();
      };
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }

  waitClosed(ms = 5000): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise((r) => {
      const t = setTimeout(() => r(false), ms);
      this.socket.once('close', () => {
        clearTimeout(t);
        r(true);
      });
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt16BE(2);
      if (this.buf.length < len) return;
      const frame = this.buf.subarray(0, len);
      this.buf = this.buf.subarray(len);
      let m: OFMessage;
      try {
        m = decodeMessage(new Uint8Array(frame));
      } catch {
        continue;
      }
      this.received.push(m);
      if (this.received.length > 1000) this.received.splice(0, 500);
      if (this.opts.answer === false) continue;
      const xid = m.xid ?? 0;
      if (m.type === 'features_request') {
        this.send({
          type: 'features_reply',
          xid,
          datapathId: this.opts.dpid ?? 0x1n,
          nBuffers: 0,
          nTables: 254,
          auxiliaryId: 0,
          capabilities: 0,
        });
      } else if (m.type === 'barrier_request') {
        this.send({ type: 'barrier_reply', xid });
      } else if (m.type === 'echo_request') {
        this.send({ type: 'echo_reply', xid, data: m.data });
      } else if (m.type === 'multipart_request' && this.opts.onMultipart) {
        for (const b of this.opts.onMultipart(m) ?? []) this.write(b);
      }
    }
  }
}
