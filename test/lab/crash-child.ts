// Child process for the crash test: builds a lab, starts processes in it, then waits to be SIGKILLed.
//   node --import tsx test/lab/crash-child.ts <prefix>
import { Lab } from '../../src/lab/lab.js';
import { defaultTopology } from '../../src/lab/topology.js';

const prefix = process.argv[2]!;
const lab = await Lab.up(defaultTopology(3, 6), { prefix });
await lab.spawn('h1', 'sleeper', ['sleep', '600']);
await lab.spawn('vm2', 'pinger', ['ping', '-q', '-i', '0.5', '10.0.0.11']);
await lab.spawn('root', 'rootsleeper', ['sleep', '600']);
process.stdout.write(`ready ${JSON.stringify(lab.processes().map((p) => p.pid))}\n`);
setInterval(() => undefined, 1 << 30);
