// The metadata HTTP listener: a small process the agent starts inside its metadata namespace (Node cannot enter a
// namespace, a child started there can), listening on 169.254.169.254:80 — and, for DNS over TCP, on port 53. It
// answers nothing itself: each request's source address, method and path (each DNS message) go to the agent over
// the IPC channel, and the agent's answer comes back.
import { createServer } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { MetadataAnswer } from './content.js';

/** The listener's half of the IPC protocol (the agent's is metadata-endpoint.ts). */
export type ListenerMessage =
  | { kind: 'listening' }
  | { kind: 'failed'; error: string }
  | { kind: 'request'; id: number; remote: string; method: string; path: string }
  /** One DNS message from a TCP connection, without its length prefix, base64. */
  | { kind: 'dns'; id: number; remote: string; query: string };
export type AgentMessage =
  | { kind: 'answer'; id: number; answer: MetadataAnswer }
  /** The DNS answer to send back (base64), or null: none (the connection is closed). */
  | { kind: 'dnsAnswer'; id: number; reply: string | null };

/** A request the agent did not answer within this long gets a 504. */
const ANSWER_TIMEOUT_MS = 10_000;

function main(): void {
  const send = process.send?.bind(process);
  if (!send) {
    process.stderr.write('the metadata listener runs as the agent’s child (IPC channel missing)\n');
    process.exit(2);
  }
  const host = process.env.VNET_METADATA_HOST ?? '169.254.169.254';
  const port = Number(process.env.VNET_METADATA_PORT ?? '80');
  const waiting = new Map<number, (a: MetadataAnswer) => void>();
  const waitingDns = new Map<number, (reply: string | null) => void>();
  let next = 1;
  process.on('message', (m: AgentMessage) => {
    if (m?.kind === 'answer') {
      waiting.get(m.id)?.(m.answer);
      waiting.delete(m.id);
    } else if (m?.kind === 'dnsAnswer') {
      waitingDns.get(m.id)?.(m.reply);
      waitingDns.delete(m.id);
    }
  });
  // The agent is gone (exit, crash): so is the listener; the agent starts a new one.
  process.on('disconnect', () => process.exit(0));

  const server = createServer((req, res) => {
    const id = next++;
    const timer = setTimeout(() => {
      waiting.delete(id);
      res.writeHead(504, { 'content-type': 'text/plain' }).end('504 the agent did not answer\n');
    }, ANSWER_TIMEOUT_MS);
    waiting.set(id, (a) => {
      clearTimeout(timer);
      res.writeHead(a.status, { 'content-type': a.contentType }).end(req.method === 'HEAD' ? undefined : a.body);
    });
    const path = (req.url ?? '/').split('?')[0]!;
    send({
      kind: 'request',
      id,
      remote: req.socket.remoteAddress ?? '',
      method: req.method ?? 'GET',
      path,
    } satisfies ListenerMessage);
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.on('error', (err) => {
    send({ kind: 'failed', error: err.message } satisfies ListenerMessage);
    process.exit(1);
  });
  const listening = () => send({ kind: 'listening' } satisfies ListenerMessage);
  if (process.env.VNET_METADATA_DNS !== '1') {
    server.listen(port, host, listening);
    return;
  }
  // DNS over TCP (RFC 7766): each message has a 2-byte length before it; several may share a connection.
  const dns = createTcpServer((socket) => serveDns(socket, (query) => askDns(socket, query)));
  const askDns = (socket: Socket, query: Buffer) =>
    new Promise<string | null>((resolve) => {
      const id = next++;
      const timer = setTimeout(() => {
        waitingDns.delete(id);
        resolve(null);
      }, ANSWER_TIMEOUT_MS);
      waitingDns.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      send({
        kind: 'dns',
        id,
        remote: socket.remoteAddress ?? '',
        query: query.toString('base64'),
      } satisfies ListenerMessage);
    });
  dns.on('error', (err) => {
    send({ kind: 'failed', error: `DNS over TCP: ${err.message}` } satisfies ListenerMessage);
    process.exit(1);
  });
  server.listen(port, host, () => dns.listen(DNS_TCP_PORT, host, listening));
}

const DNS_TCP_PORT = Number(process.env.VNET_METADATA_DNS_PORT ?? '53');
/** A DNS connection with nothing to say for this long is closed (RFC 7766 §6.2.3 suggests seconds). */
const DNS_IDLE_MS = 10_000;

/** Reads length-prefixed DNS messages off `socket` and writes each answer back prefixed; no answer closes it. */
function serveDns(socket: Socket, ask: (query: Buffer) => Promise<string | null>): void {
  let buffered = Buffer.alloc(0);
  socket.setTimeout(DNS_IDLE_MS, () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2) {
      const len = buffered.readUInt16BE(0);
      if (buffered.length < 2 + len) break;
      const query = buffered.subarray(2, 2 + len);
      buffered = buffered.subarray(2 + len);
      void ask(Buffer.from(query)).then((reply) => {
        if (reply === null) return socket.end();
        const body = Buffer.from(reply, 'base64');
        const head = Buffer.alloc(2);
        head.writeUInt16BE(body.length);
        if (!socket.destroyed) socket.write(Buffer.concat([head, body]));
      });
    }
  });
}

main();
