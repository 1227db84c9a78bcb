// `vnet agent`: the per-host agent (OpenVNet's vna): options here, the process in src/agent/runtime.
import { Command } from '@commander-js/extra-typings';
import { DEFAULT_LISTEN, DEFAULT_OVSDB, DEFAULT_SERVER } from './runtime/options.js';

export function agentCommand() {
  return new Command('agent')
    .description('per-host agent: takes over an OVS bridge and programs it from the server model')
    .option(
      '--server <url[,url…]>',
      'vnet server base URL; several (one database): the agent fails over',
      DEFAULT_SERVER,
    )
    .option('--node-id <name>', 'this host (default: the host name)')
    .option('--bridge <name>', 'OVS bridge to program', 'br0')
    .option('--ovsdb <remote>', 'OVSDB remote: unix:PATH, tcp:HOST:PORT or ssl:HOST:PORT', DEFAULT_OVSDB)
    .option('--ovsdb-key <file>', 'for an ssl: OVSDB remote: the agent’s private key (PEM)')
    .option('--ovsdb-cert <file>', 'for an ssl: OVSDB remote: the agent’s certificate (PEM)')
    .option('--ovsdb-ca <file>', 'for an ssl: OVSDB remote: the CA certificate ovsdb-server’s is signed by (PEM)')
    .option(
      '--listen <[tcp:|ssl:]host:port>',
      'OpenFlow listen address the bridge connects to, when the agent does not dial it (--switch-socket); ssl: for OpenFlow over TLS',
      DEFAULT_LISTEN,
    )
    .option(
      '--switch-socket <unix:path|none>',
      'the bridge’s management socket the agent dials (default: <bridge>.mgmt beside a unix: --ovsdb socket); none: the bridge dials --listen',
    )
    .option('--openflow-key <file>', 'with --listen ssl:…: the agent’s private key (PEM)')
    .option('--openflow-cert <file>', 'with --listen ssl:…: the agent’s certificate (PEM)')
    .option('--openflow-ca <file>', 'with --listen ssl:…: the CA certificate the switch’s must be signed by (PEM)')
    .option('--switch-key <file>', 'with --listen ssl:…: ovs-vswitchd’s private key, set in its SSL table')
    .option('--switch-cert <file>', 'with --listen ssl:…: ovs-vswitchd’s certificate, set in its SSL table')
    .option(
      '--switch-ca <file>',
      'with --listen ssl:…: the CA ovs-vswitchd verifies the agent’s certificate with (default: its own set-ssl)',
    )
    .option(
      '--metrics-listen <host:port>',
      'serve Prometheus metrics at http://HOST:PORT/metrics, without authentication (default: off)',
    )
    .option(
      '--vswitchd-ctl <path>',
      "ovs-vswitchd's control socket, for traces (default: found next to a unix: --ovsdb socket)",
    )
    .option(
      '--snat-ports <min-max>',
      'source ports of the snat translations this host serves as a gateway (default: OVS chooses, 1024-65535)',
    )
    .option(
      '--metadata-netns <name>',
      'the network namespace the agent owns for its metadata server (169.254.169.254) (default: vnet-meta-<bridge>)',
    )
    .option('--no-metadata', 'serve no metadata at 169.254.169.254 (no namespace, no port)')
    .option('--tunnel-ip <addr>', "this host's underlay IPv4 address (tunnel endpoint)")
    .option('--encap <gre|vxlan>', 'how other hosts reach this one', 'gre')
    .option('--underlay-mtu <n>', 'underlay MTU (the DHCP MTU is this minus the encapsulation overhead)', '1500')
    .option('--create-bridge', 'create the bridge if it does not exist (default: wait for it)')
    .option(
      '--datapath-type <netdev|system>',
      'datapath type for --create-bridge (default: netdev without the OVS kernel module)',
    )
    .option('--register', 'register this datapath with the server if no datapath has its dpid')
    .option('--ca-file <file>', 'PEM certificate(s) to verify an https server with (e.g. its self-signed tls.crt)')
    .option('--token-file <file>', 'API token file (env VNET_TOKEN overrides; written by --enroll-token)')
    .option(
      '--enroll-token <token>',
      'one-time enrollment token (env VNET_ENROLL_TOKEN): traded for an agent token kept in --token-file',
      process.env.VNET_ENROLL_TOKEN,
    )
    .action(async (opts) => {
      const { runAgent } = await import('./runtime/main.js');
      await runAgent(opts);
    });
}
