// Test helpers that use ovs-ofctl offline as the oracle: parse-flow (OVS's own encoding) and ofp-print (its decoding).
import { execFileSync } from 'node:child_process';

function run(args: string[]): string {
  try {
    return execFileSync('ovs-ofctl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`ovs-ofctl ${args.join(' ')}: ${err.stderr?.trim() || err.message}`);
  }
}

/** The FLOW_MOD bytes (hex) ovs-ofctl itself would send for an add-flow text in OpenFlow 1.3. */
export function ovsEncodeFlow(text: string): string {
  const outp = run(['-O', 'OpenFlow13', 'parse-flow', '-mmmmm', text]);
  return outp
    .split('\n')
    .filter((l) => /^[0-9a-f]{8} {2}/.test(l))
    .map((l) => (l.split('|')[0] ?? '').slice(10).replace(/[- ]/g, ''))
    .join('');
}

/** ovs-ofctl's decoding of a message (hex), as text. */
export function ovsPrint(hex: string): string {
  return run(['ofp-print', hex]).trim();
}
