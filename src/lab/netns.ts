// Making lab namespaces, and the temporary names links get while they are created inside them.
import { existsSync } from 'node:fs';
import type { LabContext } from './context.js';
import { LabSafetyError } from './errors.js';
import { runIn } from './exec.js';

/** A new netns with lo up and IPv6 off; refuses one that exists already (it is not ours). */
export async function addNetns(ns: string): Promise<void> {
  if (existsSync(`/run/netns/${ns}`)) throw new LabSafetyError(`netns ${ns} already exists`);
  await runIn(undefined, ['ip', 'netns', 'add', ns]);
  await runIn(undefined, [
    'ip',
    'netns',
    'exec',
    ns,
    'sysctl',
    '-qw',
    'net.ipv6.conf.all.disable_ipv6=1',
    'net.ipv6.conf.default.disable_ipv6=1',
  ]);
  await runIn(undefined, ['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
}

/**
 * Two fresh temporary interface names (`<prefix>_<n>a|b`) for the ends of a new veth. They are only
 * ever created inside lab namespaces, and we refuse any that exists in the root namespace, so no
 * command can ever pick up (and move away) one of the machine's own interfaces.
 */
export function tmpVethNames(ctx: LabContext): [string, string] {
  const s = ctx.state;
  const n = (s.tmpCounter++).toString(36);
  ctx.save();
  const a = `${s.prefix}_${n}a`;
  const b = `${s.prefix}_${n}b`;
  for (const x of [a, b]) {
    if (x.length > 15) throw new LabSafetyError(`temporary interface name ${x} is longer than 15 characters`);
    if (existsSync(`/sys/class/net/${x}`))
      throw new LabSafetyError(`${x} exists in the root namespace; refusing to use it`);
  }
  return [a, b];
}
