// OVN side of bench/north-south.ts: the same measurements on the shared OVN lab (its lib.sh, sourced where it lives,
// never copied), with the same layout as vnet's: ch1 the gateway, ch2 the VMs, both with a port on a provider
// segment; an upstream router and an "internet" host (198.51.100.10) beyond it.
//   OVN: one logical router; its port on the external (localnet) switch is a distributed gateway port on ch1 —
//   OVN's gateway, where `lr-nat-add snat` translates — and each floating IP is a `lr-nat-add dnat_and_snat` with
//   the VM's logical port and an external MAC, so it is handled on the VM's chassis (distributed, like vnet's).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { OVN_LAB_DIR, runLogged } from './ovn.js';
import { percentile } from './report.js';

export const OVN_NORTH_SOUTH_SCRIPT = String.raw`
set -u
source "$OVN_LAB_DIR/lib.sh"
# Its own run directory and namespace prefix: lib.sh's cleanup removes every "$PFX-*" namespace and the daemons
# under $LAB, so the shared defaults (ovnlab, /tmp/ovnlab) would tear down another run of the OVN lab.
PFX=ovnns; UL_NS=$PFX-ul
trap 'lab_cleanup >/dev/null 2>&1' EXIT
trap 'exit 130' INT TERM
lab_cleanup >/dev/null 2>&1
start_central; start_underlay; start_chassis 1; start_chassis 2
wait_chassis 2 30 || die "chassis not up"
X=$PFX-ex; UP=$PFX-up; IN=$PFX-inet
# The provider segment (a Linux bridge in its own namespace: lab_cleanup deletes every $PFX-* namespace), one
# port per chassis on br-ex, mapped to physnet.
ip netns add $X; ip -n $X link set lo up; ip -n $X link add exbr type bridge; ip -n $X link set exbr up
for i in 1 2; do
  ip -n $X link add ex$i type veth peer name ex0 netns $PFX-ch$i
  ip -n $X link set ex$i master exbr up
  ip -n $PFX-ch$i link set ex0 up
  vsctl ch$i -- add-br br-ex -- set bridge br-ex datapath_type=netdev -- add-port br-ex ex0 \
    -- set open_vswitch . external_ids:ovn-bridge-mappings=physnet:br-ex
done
# The upstream router (no NAT) and the internet host beyond it.
ip netns add $UP; ip -n $UP link set lo up; ip netns add $IN; ip -n $IN link set lo up
ip -n $X link add up0 type veth peer name eth0 netns $UP
ip -n $X link set up0 master exbr up
ip -n $UP link add eth1 type veth peer name eth0 netns $IN
ip -n $UP addr add 192.168.10.1/24 dev eth0; ip -n $UP addr add 198.51.100.1/24 dev eth1
ip -n $IN addr add 198.51.100.10/24 dev eth0
for l in "$UP eth0" "$UP eth1" "$IN eth0"; do set -- $l; ip -n $1 link set $2 up; ip netns exec $1 ethtool -K $2 tx off >/dev/null 2>&1; done
ip -n $IN route add default via 198.51.100.1
ip netns exec $UP sysctl -qw net.ipv4.ip_forward=1
# ARP retried every 10 ms, as on every node of vnet's lab, so a first reply is not quantised by ARP backoff.
ip netns exec $UP sysctl -qw net.ipv4.neigh.eth0.retrans_time_ms=10 net.ipv4.neigh.eth0.mcast_solicit=100
# Logical topology: sw-a (10.0.0.0/24, the VMs behind SNAT and the floating IPs), sw-c (10.3.0.0/24, the routed
# baseline's target on ch1), ext (localnet on physnet), one router with a gateway port on ch1.
nb ls-add sw-a -- ls-add sw-c -- ls-add ext
nb lsp-add ext ext-ln -- lsp-set-type ext-ln localnet -- lsp-set-addresses ext-ln unknown \
  -- lsp-set-options ext-ln network_name=physnet
nb lr-add lr
for p in "a 02:00:20:00:0a:01 10.0.0.1/24" "c 02:00:20:00:0c:01 10.3.0.1/24" "ext 02:00:20:00:0e:01 192.168.10.11/24"; do
  set -- $p; sw=$1; [ $sw = ext ] || sw=sw-$1
  nb lrp-add lr lr-$1 $2 $3
  nb lsp-add $sw $sw-lr -- lsp-set-type $sw-lr router -- lsp-set-addresses $sw-lr router \
    -- lsp-set-options $sw-lr router-port=lr-$1
done
nb lrp-set-gateway-chassis lr-ext ch1 20
nb lr-route-add lr 0.0.0.0/0 192.168.10.1
nb lr-nat-add lr snat 192.168.10.11 10.0.0.0/24
vm() { # vm NAME CHASSIS SWITCH MAC IP GW
  nb lsp-add $3 $1 -- lsp-set-addresses $1 "$4 $5" -- lsp-set-port-security $1 "$4 $5"
  vm_add $1 $2 $1 $4 $5/24 $6
  ip netns exec $PFX-$1 ethtool -K eth0 tx off >/dev/null 2>&1
  ip netns exec $PFX-ch$2 ethtool -K v-$1 tx off >/dev/null 2>&1
}
vm c1 1 sw-c 0a:20:00:00:0c:10 10.3.0.10 10.3.0.1
vm nat 2 sw-a 0a:20:00:00:0a:09 10.0.0.9 10.0.0.1
vm nat1 1 sw-a 0a:20:00:00:0a:08 10.0.0.8 10.0.0.1
for i in $(seq 0 $((FIPS - 1))); do vm f$i 2 sw-a 0a:20:00:00:0a:$((20 + i)) 10.0.0.$((20 + i)) 10.0.0.1; done
nb --wait=hv sync
wait_ping nat 198.51.100.10 30 || die "nat cannot reach the internet host through snat"
wait_ping nat 10.3.0.10 30 || die "nat cannot reach c1 (routed)"
fip() { echo 192.168.10.$((100 + $1)); }
addfip() { nb lr-nat-add lr dnat_and_snat $(fip $1) 10.0.0.$((20 + $1)) f$1 0a:20:00:00:fe:$((10 + $1)); }
answers() { ip netns exec $IN ping -q -n -c1 -W "$2" "$1" >/dev/null 2>&1; }
# 1. Floating IP created (one NB write, no --wait) -> first reply from the internet host (a ping every 5 ms).
for r in $(seq $ROUNDS); do
  ip -n $UP neigh flush all
  t0=$(now); addfip 0; echo "RESULT fip_write_ms=$(ms_since $t0)"
  if ip netns exec $IN ping -q -n -c1 -i 0.005 -w 10 $(fip 0) >/dev/null 2>&1; then
    echo "RESULT fip_ms=$(ms_since $t0)"
  else echo "RESULT fip_ms=NA"; fi
  nb lr-nat-del lr dnat_and_snat $(fip 0); nb --wait=hv sync
  t1=$(now); while answers $(fip 0) 0.2; do [ $(ms_since $t1) -gt 10000 ] && break; done
done
# 2. Flows per floating IP on the VM's chassis (ch2) and on the gateway (ch1).
b1=$(flow_count ch1); b2=$(flow_count ch2)
for i in $(seq 0 $((FIPS - 1))); do addfip $i; done
nb --wait=hv sync; sleep 1
echo "RESULT flows_before_ch1=$b1 flows_before_ch2=$b2 flows_after_ch1=$(flow_count ch1) flows_after_ch2=$(flow_count ch2)"
wait_ping f0 198.51.100.10 20 || die "f0 cannot reach the internet host from its floating IP"
# 3. iperf3 TCP: through SNAT (nat; nat1 on the gateway chassis itself, no tunnel), through a floating IP (f0), routed VM to VM (nat -> c1 across the chassis).
passes() { # the userspace datapath's packets and passes per packet (1 + recirculations) on a chassis, since the clear
  vsappctl $1 dpif-netdev/pmd-stats-show | awk -v c=$1 '/packets received:/{r+=$3} /packet recirculations:/{x+=$3}
    END{if (r > 1000) printf "%s %dk packets × %.2f passes; ", c, r/1000, (r+x)/r}'
}
iperf() { # iperf CLIENT SERVER_NS DST LABEL; the last run's datapath work is reported
  for k in $(seq $IPERF_RUNS); do
    for c in ch1 ch2; do vsappctl $c dpif-netdev/pmd-stats-clear >/dev/null; done
    ip netns exec $2 iperf3 -s -1 -D >/dev/null 2>&1; sleep 0.5
    bps=$(ip netns exec $PFX-$1 timeout $((IPERF_S + 20)) iperf3 -c $3 -t $IPERF_S -J 2>/dev/null \
      | awk -F'[:,]' '/"sum_received"/{s=1} s && /"bits_per_second"/{printf "%.0f", $2; exit}')
    echo "RESULT iperf_$4=\${bps:-NA}"
  done
  echo "RESULT passes_$4=$( (passes ch1; passes ch2) | tr ' ' '_')"
}
iperf nat $IN 198.51.100.10 snat
iperf nat1 $IN 198.51.100.10 snat1
iperf f0 $IN 198.51.100.10 fip
iperf nat $PFX-c1 10.3.0.10 routed
# What the internet host sees (the source of the SNAT and floating-IP paths).
for v in nat f0; do
  ip netns exec $IN timeout 5 tcpdump -l -n -c1 -i eth0 icmp 2>/dev/null > $LAB/seen.$v & tp=$!; sleep 0.5
  ip netns exec $PFX-$v ping -n -c2 -i 0.2 -W 1 198.51.100.10 >/dev/null 2>&1; wait $tp
  echo "RESULT seen_$v=$(awk '{print $3}' $LAB/seen.$v)"
done
`.replaceAll('\\$', '$'); // String.raw keeps "\${" (escaped so TS does not interpolate): bash wants "${".

export interface OvnNorthSouth {
  fipMs: number[];
  /** Of which the nbctl write. */
  fipWriteMs: number[];
  fipFailed: number;
  flows: { beforeCh1: number; beforeCh2: number; afterCh1: number; afterCh2: number } | null;
  iperf: Record<'snat' | 'snat1' | 'fip' | 'routed', number[]>;
  seen: Record<'nat' | 'f0', string | null>;
  /** Per path: each chassis's packets and datapath passes per packet during the last iperf3 run. */
  passes: Record<'snat' | 'snat1' | 'fip' | 'routed', string | null>;
  log: string;
  exitCode: number | null;
}

export async function runOvnNorthSouth(
  o: { workDir: string; rounds: number; fips: number; iperfS: number; iperfRuns: number; timeoutMs: number },
  children: Set<import('node:child_process').ChildProcess>,
): Promise<OvnNorthSouth> {
  const log = join(o.workDir, 'ovn-north-south.log');
  rmSync(log, { force: true });
  const exitCode = await runLogged(
    'bash',
    ['-c', OVN_NORTH_SOUTH_SCRIPT],
    {
      env: {
        OVN_LAB_DIR,
        LAB: '/tmp/ovnlab-northsouth',
        ENCAP: 'geneve',
        ROUNDS: String(o.rounds),
        FIPS: String(o.fips),
        IPERF_S: String(o.iperfS),
        IPERF_RUNS: String(o.iperfRuns),
      },
      cwd: OVN_LAB_DIR,
      logFile: log,
      timeoutMs: o.timeoutMs,
    },
    children,
  );
  const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
  const all = (key: string) => [...text.matchAll(new RegExp(`RESULT ${key}=(\\S+)`, 'g'))].map((m) => m[1]!);
  const passesOf = (key: string) => all(`passes_${key}`)[0]?.replaceAll('_', ' ').trim() ?? null;
  const nums = (key: string) => all(key).map(Number).filter(Number.isFinite);
  const f = /RESULT flows_before_ch1=(\d+) flows_before_ch2=(\d+) flows_after_ch1=(\d+) flows_after_ch2=(\d+)/.exec(
    text,
  );
  return {
    fipMs: nums('fip_ms'),
    fipWriteMs: nums('fip_write_ms'),
    fipFailed: all('fip_ms').filter((v) => v === 'NA').length,
    flows: f ? { beforeCh1: +f[1]!, beforeCh2: +f[2]!, afterCh1: +f[3]!, afterCh2: +f[4]! } : null,
    iperf: {
      snat: nums('iperf_snat'),
      snat1: nums('iperf_snat1'),
      fip: nums('iperf_fip'),
      routed: nums('iperf_routed'),
    },
    seen: { nat: all('seen_nat')[0] ?? null, f0: all('seen_f0')[0] ?? null },
    passes: {
      snat: passesOf('snat'),
      snat1: passesOf('snat1'),
      fip: passesOf('fip'),
      routed: passesOf('routed'),
    },
    log,
    exitCode,
  };
}

/** The median of a list of samples (null when empty). */
export const median = (xs: number[]): number | null => percentile(xs, 50);
