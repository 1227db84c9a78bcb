// Fault-injecting fake OVSDB peer (unix socket) for the client's error-path tests only.
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { JsonSplitter } from '../../src/ovsdb/framing.js';

export interface FakeConn {
  socket: Socket;
  /** Every JSON message the client sent on this connection, in order. */
  received: Array<Record<string, unknown>>;
  send(msg: unknown): void;
  raw(bytes: string | Buffer): void;
  /** Resolves with the next message matching pred (already received ones count). */
  next(pred?: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export interface FakePeer {
  path: string;
  target: string;
  server: Server;
  conns: FakeConn[];
  nextConn(timeoutMs?: number): Promise<FakeConn>;
  close(): Promise<void>;
}

let seq = 0;

/** onMessage runs for each client message; return a reply object to send it. */
export async function startFakePeer(
  onMessage?: (m: Record<string, unknown>, c: FakeConn) => unknown,
  path = `/tmp/vnet-ovsdb-fake-${process.pid}-${++seq}.sock`,
): Promise<FakePeer> {
  rmSync(path, { force: true });
  const conns: FakeConn[] = [];
  const waiters: Array<(c: FakeConn) => void> = [];
  const server = createServer((socket) => {
    const splitter = new JsonSplitter();
    const listeners = new Set<() => void>();
    const conn: FakeConn = {
      socket,
      received: [],
      send: (msg) => socket.write(JSON.stringify(msg)),
      raw: (bytes) => socket.write(bytes),
      next: (pred = () => true, timeoutMs = 5000) => {
        let seen = 0;
        return new Promise((resolve, reject) => {
          const check = () => {
            for (; seen < conn.received.length; seen++) {
              const m = conn.received[seen]!;
              if (pred(m)) {
                listeners.delete(check);
                clearTimeout(timer);
                resolve(m);
                return;
              }
            }
          };
          const timer = setTimeout(() => {
            listeners.delete(check);
            reject(new Error('fake peer: expected message did not arrive'));
          }, timeoutMs);
          listeners.add(check);
          check();
        });
      },
    };
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      for (const m of splitter.push(chunk) as Array<Record<string, unknown>>) {
        conn.received.push(m);
        const reply = onMessage?.(m, conn);
        if (reply !== undefined) conn.send(reply);
        for (const l of [...listeners]) l();
      }
    });
    conns.push(conn);
    waiters.shift()?.(conn);
  });
  server.listen(path);
  await once(server, 'listening');
  return {
    path,
    target: `unix:${path}`,
    server,
    conns,
    nextConn: (timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('fake peer: no connection')), timeoutMs);
        waiters.push((c) => {
          clearTimeout(timer);
          resolve(c);
        });
      }),
    close: async () => {
      for (const c of conns) c.socket.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(path, { force: true });
    },
  };
}
