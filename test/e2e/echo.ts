// Real sockets for filter tests: an echo server per VM on the TCP and UDP ports asked for, and probes that carry a
// unique token each, so a blocked probe is checked on both ends: the client got no echo back, and the server
// never saw it (or, for a request let in while its reply is not, the server saw it and only the reply was lost).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Cluster } from '../../src/demo/cluster.js';
import type { LabProcess } from '../../src/lab/lab.js';

// Echo server for `tcp/PORT` and `udp/PORT` arguments: logs "<proto> <port> <peer> <data>" for what
// arrives and answers "echo:<data>".
const ECHO_SERVER = `
import selectors, socket, sys
sel = selectors.DefaultSelector()
for spec in sys.argv[1:]:
    proto, port = spec.split('/')
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == 'tcp' else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', int(port)))
    if proto == 'tcp':
        s.listen(64)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, (proto, port, None))
print('ready', flush=True)
while True:
    for key, _ in sel.select():
        proto, port, peer = key.data
        s = key.fileobj
        try:
            if proto == 'udp':
                data, addr = s.recvfrom(2048)
                print('udp', port, addr[0], data.decode(errors='replace').strip(), flush=True)
                s.sendto(b'echo:' + data, addr)
            elif peer is None:
                c, addr = s.accept()
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ, ('tcp', port, addr[0]))
            else:
                data = s.recv(2048)
                if not data:
                    sel.unregister(s)
                    s.close()
                    continue
                print('tcp', port, peer, data.decode(errors='replace').strip(), flush=True)
                s.sendall(b'echo:' + data)
        except OSError as e:
            print('error', port, e, flush=True)
`;

export interface Probe {
  from: string;
  to: string;
  proto: 'tcp' | 'udp';
  port: number;
}

export interface Outcome {
  /** The client got the echo back. */
  answered: boolean;
  /** The server logged the probe's token. */
  arrived: boolean;
}

export const OPEN: Outcome = { answered: true, arrived: true };
export const BLOCKED: Outcome = { answered: false, arrived: false };

export const probeLabel = (p: Probe) => `${p.from} -> ${p.to} ${p.proto}/${p.port}`;

/** Echo servers in a cluster's VMs, and probes to them. */
export class EchoServers {
  private readonly servers = new Map<string, LabProcess>();
  private seq = 0;

  /** `ipOf` gives the address a probe to a VM is sent to. */
  constructor(
    private readonly cluster: Cluster,
    private readonly ipOf: (vm: string) => string,
  ) {}

  /** Starts one server per VM (`tcp/PORT`, `udp/PORT` each) and waits until every one listens. */
  async start(ports: Record<string, string[]>): Promise<void> {
    for (const [vm, specs] of Object.entries(ports))
      this.servers.set(vm, await this.cluster.lab.spawn(vm, 'echo', ['python3', '-c', ECHO_SERVER, ...specs]));
    for (const [vm, p] of this.servers) {
      for (let i = 0; !p.logTail(5).includes('ready'); i++) {
        assert.ok(i < 200 && p.alive(), `echo server in ${vm} did not start:\n${p.logTail(20)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** One nc connection (tcp) or datagram (udp) carrying a unique token. */
  async probe(p: Probe): Promise<Outcome> {
    const token = `probe${++this.seq}-${p.from}`;
    const dst = this.ipOf(p.to);
    const nc = p.proto === 'tcp' ? `nc -N -w 2 ${dst} ${p.port}` : `nc -u -w 2 ${dst} ${p.port}`;
    const r = await this.cluster.lab.exec(p.from, ['sh', '-c', `echo ${token} | ${nc}`]);
    // Let a late datagram land in the server log before it is read.
    await new Promise((res) => setTimeout(res, 100));
    const server = this.servers.get(p.to);
    if (!server) throw new Error(`no echo server in ${p.to}`);
    const log = readFileSync(server.log, 'utf8');
    return { answered: r.stdout.includes(`echo:${token}`), arrived: log.includes(` ${token}`) };
  }

  /** Runs the probes at once and compares every outcome; on a mismatch the message ends with `report()`. */
  async assertProbes(expected: [Probe, Outcome][], report: () => Promise<string>): Promise<void> {
    const got = await Promise.all(expected.map(([p]) => this.probe(p)));
    const wrong = expected
      .map(([p, want], i) => ({ p, want, got: got[i]! }))
      .filter((x) => x.got.answered !== x.want.answered || x.got.arrived !== x.want.arrived);
    if (wrong.length > 0)
      assert.fail(
        `${wrong.map((w) => `${probeLabel(w.p)}: expected ${JSON.stringify(w.want)}, got ${JSON.stringify(w.got)}`).join('\n')}\n` +
          (await report()),
      );
  }
}
