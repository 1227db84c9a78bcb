// Content negotiation of the reply's encoding (RFC 9110 §12.5.3), for the replies served compressed.
import type { IncomingMessage } from 'node:http';

/** Whether the request's Accept-Encoding takes gzip (by name or `*`, with a weight above 0). */
export function acceptsGzip(req: IncomingMessage): boolean {
  const header = req.headers['accept-encoding'];
  if (!header) return false;
  let star = false;
  for (const item of header.split(',')) {
    const [coding = '', ...params] = item.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q\s*=\s*([\d.]+)\s*$/.exec(p)).find(Boolean);
    const wanted = !q || Number(q[1]) > 0;
    const name = coding.trim();
    if (name === 'gzip' || name === 'x-gzip') return wanted;
    if (name === '*') star = wanted;
  }
  return star;
}
