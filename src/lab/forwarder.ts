// Stand-alone TCP/unix-socket forwarder the lab runs inside namespaces, so e.g. an agent in a host netns reaches the server in another.
// Usage: node forwarder.js <listen> <connect>, each `tcp:HOST:PORT` or `unix:PATH`. Prints "listening" when ready.
import { existsSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';

type Endpoint = { path: string } | { host: string; port: number };

function parseEndpoint(s: string | undefined, which: string): Endpoint {
  const m = s ? /^tcp:([^:]+):(\d{1,5})$/.exec(s) : null;
  if (m) return { host: m[1]!, port: Number(m[2]) };
  if (s?.startsWith('unix:') && s.length > 5) return { path: s.slice(5) };
  process.stderr.write(`forwarder: ${which}: expected tcp:HOST:PORT or unix:PATH, got ${JSON.stringify(s)}\n`);
  process.exit(2);
}

const listenAt = parseEndpoint(process.argv[2], 'listen');
const target = parseEndpoint(process.argv[3], 'connect');

const server = createServer((client: Socket) => {
  const upstream = connect(target);
  // Either side failing or closing ends both: a forwarder must never keep half a connection.
  const end = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', end);
  upstream.on('error', end);
  client.on('close', end);
  upstream.on('close', end);
  client.pipe(upstream);
  upstream.pipe(client);
});
server.on('error', (err) => {
  process.stderr.write(`forwarder: ${err.message}\n`);
  process.exit(1);
});
if ('path' in listenAt && existsSync(listenAt.path)) rmSync(listenAt.path);
server.listen(listenAt, () => process.stdout.write(`listening ${process.argv[2]} -> ${process.argv[3]}\n`));
const stop = () => {
  server.close();
  if ('path' in listenAt) rmSync(listenAt.path, { force: true });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
