// One gzip stream from pieces compressed once each: a body made of cached byte chunks (the feed snapshot) is
// compressed chunk by chunk, and a reply only splices the compressed chunks — a change recompresses its own chunk,
// not the whole body. As pigz does: each piece is a raw deflate run without a final block, byte-aligned by a sync
// flush and referring to nothing before it, so the runs concatenate into one deflate stream; a header, an empty
// final block and the CRC-32 and length of the whole make it a plain single-member gzip any client reads.
import { constants, crc32, deflateRawSync } from 'node:zlib';

const HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
/** An empty final block (fixed Huffman, end-of-block): what ends a deflate stream after a sync flush. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

/** A piece's deflate run, computed once per Buffer object (chunks are replaced, never modified). */
const runs = new WeakMap<Buffer, Buffer>();

function runOf(piece: Buffer): Buffer {
  let run = runs.get(piece);
  if (!run) {
    run = deflateRawSync(piece, { level: constants.Z_BEST_SPEED, finishFlush: constants.Z_SYNC_FLUSH });
    runs.set(piece, run);
  }
  return run;
}

/** The gzip encoding of `pieces` joined, as parts to write in order (most of them shared with earlier calls). */
export function gzipPieces(pieces: readonly Buffer[]): { parts: Buffer[]; length: number } {
  let crc = 0;
  let size = 0;
  const parts: Buffer[] = [HEADER];
  for (const p of pieces) {
    crc = crc32(p, crc);
    size += p.length;
    parts.push(runOf(p));
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(size % 2 ** 32, 4);
  parts.push(FINAL_BLOCK, trailer);
  return { parts, length: parts.reduce((n, b) => n + b.length, 0) };
}
