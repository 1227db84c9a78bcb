// OpenFlowServer: the controller end that switches connect to (ovs-vswitchd dials its controller target), over
// TCP or, for `ssl:` targets, TLS with mutual verification: the switch must present a certificate signed by `ca`.
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { SwitchConnection, type SwitchConnectionOptions } from './connection.js';
import { RequestTimeoutError } from './errors.js';

export interface OpenFlowServerOptions extends SwitchConnectionOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 6633 (OpenVNet's port); 0 picks a free one. */
  port?: number;
  /**
   * Serve TLS (ovs-vswitchd's `ssl:` controller targets): our key and certificate, and the CA certificate(s) a
   * switch's certificate must chain to — a switch without one is refused in the handshake.
   */
  tls?: { key: string; cert: string; ca: string };
}

export interface OpenFlowServerEvents {
  connection: [SwitchConnection];
  /** A switch connected but the handshake failed. */
  handshakeError: [Error];
  /** A TLS handshake failed (e.g. the switch's certificate is not signed by our CA); the socket is gone. */
  tlsRefused: [{ remote: string; reason: string }];
}

/** Listens for switches (ovs-vswitchd connects to its controller); emits each after its handshake. */
export class OpenFlowServer extends EventEmitter<OpenFlowServerEvents> {
  readonly connections = new Set<SwitchConnection>();
  private readonly server: Server;
  private readonly opts: OpenFlowServerOptions;

  constructor(opts: OpenFlowServerOptions = {}) {
    super();
    this.opts = opts;
    const accept = (socket: Socket) => {
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
    };
    if (!opts.tls) {
      this.server = createServer(accept);
      return;
    }
    const refused = (remote: string, reason: string) => {
      if (this.listenerCount('tlsRefused')) this.emit('tlsRefused', { remote, reason });
      else opts.logger?.warn({ remote, reason }, 'refused a TLS connection from a switch');
    };
    // The peer's certificate is checked here rather than by OpenSSL's own refusal, so the log can say which
    // switch was refused and why (OpenSSL's refusal reaches us as a bare reset); an unverified session is closed
    // before a byte of OpenFlow is read or written.
    const tlsServer = createTlsServer(
      { ...opts.tls, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' },
      (socket) => {
        if (socket.authorized) return accept(socket);
        refused(`${socket.remoteAddress}:${socket.remotePort}`, String(socket.authorizationError));
        socket.destroy();
      },
    );
    tlsServer.on('tlsClientError', (err: NodeJS.ErrnoException, socket) =>
      refused(`${socket.remoteAddress}:${socket.remotePort}`, err.code ? `${err.code}: ${err.message}` : err.message),
    );
    this.server = tlsServer;
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
