// `vnet demo`: the README's first command: the whole system in a lab, checked by a ping matrix.
import { Command } from '@commander-js/extra-typings';

export function demoCommand() {
  return new Command('demo')
    .description('run a server and two agents in a namespace lab with the seed networks; print the reachability matrix')
    .option('--once', 'exit after the matrix (non-zero if any cell is wrong) instead of staying up')
    .option('--prefix <prefix>', 'lab name prefix (namespaces, run dir /tmp/<prefix>)', 'vdemo')
    .option('--encap <gre|vxlan>', 'tunnel encapsulation between the hosts', 'gre')
    .action(async (opts) => {
      if (process.getuid?.() !== 0) {
        process.stderr.write('vnet demo: needs root (network namespaces and Open vSwitch)\n');
        process.exit(2);
      }
      if (opts.encap !== 'gre' && opts.encap !== 'vxlan') {
        process.stderr.write(`vnet demo: --encap: '${opts.encap}' is not one of gre, vxlan\n`);
        process.exit(2);
      }
      const { runDemo } = await import('./run.js');
      const code = await runDemo({
        once: opts.once ?? false,
        prefix: opts.prefix,
        encap: opts.encap,
        out: (line) => process.stdout.write(`${line}\n`),
      });
      process.exit(code);
    });
}
