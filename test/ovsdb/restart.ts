// Test helper: kill a lab ovsdb-server by its pidfile, run something while it is down, start it
// again with the same command line on the same database file.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { OvsInstance } from '../../src/lab/ovs-instance.js';

const pexec = promisify(execFile);

export async function restartOvsdbServer(ovs: OvsInstance, whileDown?: () => Promise<void>): Promise<void> {
  const pid = Number(readFileSync(join(ovs.dir, 'ovsdb-server.pid'), 'utf8').trim());
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  if (argv[0] !== 'ovsdb-server' || !argv.some((a) => a.includes(ovs.dir)))
    throw new Error(`pid ${pid} is not our ovsdb-server`);
  process.kill(pid, 'SIGKILL');
  while (existsSync(`/proc/${pid}`)) await new Promise((r) => setTimeout(r, 20));
  await whileDown?.();
  await pexec(argv[0], argv.slice(1), { env: ovs.env });
}

/** Run one OVSDB transaction directly on the database file (only while the server is down). */
export async function offlineTransact(ovs: OvsInstance, ...ops: unknown[]): Promise<void> {
  await pexec('ovsdb-tool', ['transact', join(ovs.dir, 'conf.db'), JSON.stringify(['Open_vSwitch', ...ops])], {
    env: ovs.env,
  });
}
