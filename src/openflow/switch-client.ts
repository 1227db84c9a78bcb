// Dialing a switch: connectSwitch (one session) and SwitchClient (keeps one up, reconnecting with backoff).
import { EventEmitter } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { Backoff } from '../util/backoff.js';
import { SwitchConnection, type SwitchConnectionOptions } from './connection.js';
import { ConnectionClosedError, OpenFlowLibError, RequestTimeoutError } from './errors.js';

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
