// The agent's own UDP socket on the host, from which the DNS service asks a service's public_dns servers
// (src/dns/forwarder.ts says why the host asks, not the VM).
import { createSocket } from 'node:dgram';
import type { UdpPort } from '../../dns/index.js';
import type { Logger } from '../../util/log.js';
import { errText } from './errors.js';

/** An IPv4 UDP socket on an ephemeral port of the host; it never keeps the process alive. */
export function hostUdpPort(log: Logger): UdpPort {
  const socket = createSocket('udp4');
  socket.on('error', (err) => log.warn({ err: errText(err) }, 'DNS upstream socket error'));
  socket.bind(0);
  socket.unref();
  return {
    send: (data, address, port) =>
      socket.send(data, port, address, (err) => {
        if (err) log.debug({ err: errText(err), server: address }, 'DNS query to upstream not sent');
      }),
    onMessage: (listener) =>
      socket.on('message', (msg, rinfo) => listener(new Uint8Array(msg), { address: rinfo.address, port: rinfo.port })),
    close: () => socket.close(),
  };
}
