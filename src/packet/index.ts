// Public surface of the packet codecs: Ethernet/802.1Q, ARP, IPv4, UDP, ICMP, DHCP, DNS.
export * from './arp.js';
export * from './bytes.js';
export * from './dhcp.js';
export * from './errors.js';
export * from './ethernet.js';
export * from './frame.js';
export * from './icmp.js';
export * from './ipv4.js';
export * from './pcap.js';
export * from './udp.js';
export * from './dns.js';
