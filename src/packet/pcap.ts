// Writes classic libpcap files (LINKTYPE_ETHERNET) so tcpdump/wireshark can check what the codecs build.

const PCAP_MAGIC = 0xa1b2c3d4;
const LINKTYPE_ETHERNET = 1;

/** A pcap file holding `frames`, timestamps one microsecond apart from `startSeconds`. */
export function pcapFile(frames: readonly Uint8Array[], startSeconds = 0): Uint8Array {
  const size = 24 + frames.reduce((n, f) => n + 16 + f.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, PCAP_MAGIC, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, 65535, true); // snaplen
  v.setUint32(20, LINKTYPE_ETHERNET, true);
  let o = 24;
  frames.forEach((f, i) => {
    v.setUint32(o, startSeconds, true);
    v.setUint32(o + 4, i, true);
    v.setUint32(o + 8, f.length, true);
    v.setUint32(o + 12, f.length, true);
    out.set(f, o + 16);
    o += 16 + f.length;
  });
  return out;
}
