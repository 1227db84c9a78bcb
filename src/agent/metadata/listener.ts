// The metadata HTTP listener: a small process the agent starts inside its metadata namespace (Node cannot enter a
// namespace, a child started there can), listening on 169.254.169.254:80. It answers nothing itself: each request's
// source address, method and path go to the agent over the IPC channel, and the agent's answer comes back.
import { createServer } from 'node:http';
import type { MetadataAnswer } from './content.js';

/** The listener's half of the IPC protocol (the agent's is metadata-endpoint.ts). */
export type ListenerMessage =
  | { kind: 'listening' }
  | { kind: 'failed'; error: string }
  | { kind: 'request'; id: number; remote: string; method: string; path: string };
export type AgentMessage = { kind: 'answer'; id: number; answer: MetadataAnswer };

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
  let next = 1;
  process.on('message', (m: AgentMessage) => {
    if (m?.kind !== 'answer') return;
    waiting.get(m.id)?.(m.answer);
    waiting.delete(m.id);
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
  server.listen(port, host, () => send({ kind: 'listening' } satisfies ListenerMessage));
}

main();
