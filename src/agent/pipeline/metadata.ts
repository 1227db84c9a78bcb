// Metadata at 169.254.169.254 without a namespace per network: the addresses and MACs of the agent's one metadata
// port per host, the per-interface source address that names a VM to the agent's HTTP server, and the flows that
// steer a VM's request there and its answer back (services → metadata port → metadata_reply → l2_lookup).
import type { Flow } from '../../openflow/types.js';
import {
  apply,
  ARPOP_REQUEST,
  ETH_TYPE_ARP,
  ETH_TYPE_IP,
  exact,
  flow,
  goto,
  IPPROTO_TCP,
  loadZone,
  output,
  setField,
  writeNetwork,
} from './build.js';
import { cookieFor, pipelineCookie } from './cookies.js';
import { arpReplyActions } from './replies.js';
import type { LocalContext } from './model-view.js';

/** The well-known metadata address (Nova's, EC2's) and port. */
export const METADATA_IP = '169.254.169.254';
export const METADATA_TCP_PORT = 80;
const METADATA_IP_N = 0xa9fea9fe;
/** 169.254.0.0/16: the metadata namespace's link, where every per-interface source address lives. */
const LINK_LOCAL_NET = 0xa9fe0000;
const LINK_LOCAL_MASK = 0xffff0000;

/** The OVS internal port the agent creates on its bridge and moves into its metadata namespace. */
export const METADATA_PORT_NAME = 'vnet-meta';
/** The metadata port's own MAC (set by the agent in its namespace): the frames the switch sends it carry it. */
export const METADATA_PORT_MAC = '0a:00:a9:fe:a9:fe';
const METADATA_PORT_MAC_N = 0x0a00a9fea9fen;
/** The MAC every VM seems to have from the metadata port's side (ARP answers, answers' source MAC toward VMs). */
export const METADATA_PEER_MAC = '0a:00:a9:fe:00:01';
const METADATA_PEER_MAC_N = 0x0a00a9fe0001n;

/**
 * The source address a VM's request has at the metadata port: 169.254.<ofport high byte>.<ofport low byte>. The
 * ofport is unique on the bridge, so the address alone names the interface; null for the one ofport (43518)
 * whose address would be 169.254.169.254 itself.
 */
export function metadataSourceOf(ofport: number): number | null {
  if (!Number.isInteger(ofport) || ofport < 1 || ofport > 0xfeff) return null;
  const addr = (LINK_LOCAL_NET | ofport) >>> 0;
  return addr === METADATA_IP_N ? null : addr;
}

/** The ofport a request's source address names (the HTTP server's side of metadataSourceOf), or null. */
export function ofportOfMetadataSource(address: string): number | null {
  const m = /^(?:::ffff:)?169\.254\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (!m) return null;
  const hi = Number(m[1]);
  const lo = Number(m[2]);
  if (hi > 255 || lo > 255) return null;
  const ofport = hi * 256 + lo;
  return metadataSourceOf(ofport) === null ? null : ofport;
}

const PRIO_MD = { steer: 100, reply: 100, arp: 100, classify: 100 } as const;

/**
 * Flows of the metadata port itself, when this host has one: its traffic is classified to metadata_reply, where
 * ARP for any per-interface source address is answered with METADATA_PEER_MAC; and ARP for 169.254.169.254 from
 * a VM (one with an on-link route to it) is answered with the metadata port's MAC.
 */
export function metadataPortFlows(local: LocalContext): Flow[] {
  const port = local.metadataPort;
  if (port === null || port === undefined) return [];
  const cookie = pipelineCookie('metadata');
  return [
    flow('classifier', PRIO_MD.classify, cookie, { in_port: exact(port) }, [goto('metadata_reply')]),
    flow(
      'metadata_reply',
      PRIO_MD.arp,
      cookie,
      {
        eth_type: exact(ETH_TYPE_ARP),
        arp_op: exact(ARPOP_REQUEST),
        arp_tpa: { value: LINK_LOCAL_NET, mask: LINK_LOCAL_MASK },
      },
      [apply(...arpReplyActions(METADATA_PEER_MAC_N, 'asked'))],
    ),
    flow(
      'arp_responder',
      PRIO_MD.arp,
      cookie,
      { eth_type: exact(ETH_TYPE_ARP), arp_op: exact(ARPOP_REQUEST), arp_tpa: exact(METADATA_IP_N) },
      [apply(...arpReplyActions(METADATA_PORT_MAC_N, METADATA_IP_N))],
    ),
  ];
}

/**
 * One local VM interface's way to the metadata server and back: its TCP from its own address to
 * 169.254.169.254:80 (in_port decides who asks, after anti-spoofing) leaves to the metadata port from its source
 * address; the server's answer to that address gets the VM's address, MAC, network and zone back and is switched
 * to it (through its ingress conntrack when filtered, as the reply of what its egress committed).
 */
export function metadataInterfaceFlows(
  local: LocalContext,
  uuid: string,
  ofport: number,
  net: { key: number; zone: number },
  addr: { mac: bigint; ip: number },
): Flow[] {
  const server = { ip: METADATA_IP_N, port: METADATA_TCP_PORT, mac: METADATA_PORT_MAC_N };
  return steeredTcpFlows(local, cookieFor('interface', uuid, 'metadata'), { ofport, ...addr }, server, server, net);
}

/**
 * A local VM's TCP to `asked` (address and port) steered to the metadata port from the address naming its port
 * (destination rewritten to 169.254.169.254), and the namespace's answer from that port turned back into `asked`'s
 * address and `answerAs`'s MAC toward the VM, switched in its network. [] without a metadata port.
 */
function steeredTcpFlows(
  local: LocalContext,
  cookie: bigint,
  vm: { ofport: number; mac: bigint; ip: number },
  asked: { ip: number; port: number },
  answerAs: { mac: bigint },
  net: { key: number; zone: number },
): Flow[] {
  const port = local.metadataPort;
  if (port === null || port === undefined) return [];
  const src = metadataSourceOf(vm.ofport);
  if (src === null) return [];
  return [
    flow(
      'services',
      PRIO_MD.steer,
      cookie,
      {
        in_port: exact(vm.ofport),
        eth_type: exact(ETH_TYPE_IP),
        ip_proto: exact(IPPROTO_TCP),
        ipv4_src: exact(vm.ip),
        ipv4_dst: exact(asked.ip),
        tcp_dst: exact(asked.port),
      },
      [
        apply(
          setField('ipv4_src', src),
          ...(asked.ip === METADATA_IP_N ? [] : [setField('ipv4_dst', METADATA_IP_N)]),
          setField('eth_src', METADATA_PEER_MAC_N),
          setField('eth_dst', METADATA_PORT_MAC_N),
          output(port),
        ),
      ],
    ),
    flow(
      'metadata_reply',
      PRIO_MD.reply,
      cookie,
      {
        eth_type: exact(ETH_TYPE_IP),
        ip_proto: exact(IPPROTO_TCP),
        ipv4_dst: exact(src),
        tcp_src: exact(asked.port),
      },
      [
        apply(
          setField('ipv4_src', asked.ip),
          setField('ipv4_dst', vm.ip),
          setField('eth_src', answerAs.mac),
          setField('eth_dst', vm.mac),
          loadZone(net.zone),
        ),
        writeNetwork(net.key),
        goto('l2_lookup'),
      ],
    ),
  ];
}

/** DNS's TCP port (RFC 7766): queries a UDP answer could not hold, or clients that always use TCP. */
const DNS_TCP_PORT = 53;

/**
 * DNS over TCP for one local VM port, through the same metadata port (no TCP stack in the agent): the VM's TCP to
 * its network's DNS service address, port 53, leaves to the metadata port from its per-interface source address, to
 * the agent's listener on 169.254.169.254:53; the answer gets back the service's address and MAC (what the VM
 * asked and ARPed for) and the VM's own, and is switched to it as the metadata answer is. One service address per
 * network is served over TCP (`service`: the network's lowest DNS service address); UDP serves every one.
 */
export function dnsTcpFlows(
  local: LocalContext,
  cookie: bigint,
  vm: { ofport: number; mac: bigint; ip: number },
  service: { mac: bigint; ip: number },
  net: { key: number; zone: number },
): Flow[] {
  return steeredTcpFlows(local, cookie, vm, { ip: service.ip, port: DNS_TCP_PORT }, service, net);
}
