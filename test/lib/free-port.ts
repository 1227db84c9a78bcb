// A TCP port for a test server or for "nothing listens here" checks.
import { createServer } from 'node:net';

/** A port on 127.0.0.1 that was free a moment ago: listen on port 0, read the port the kernel chose, close. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
