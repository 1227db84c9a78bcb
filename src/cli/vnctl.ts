// Entry point of `bin/vnctl`: the OpenVNet-compatible CLI (see docs/vnctl.md); the work is in ./vnctl/.
import { runVnctl } from './vnctl/main.js';

// `vnctl … | head -1`: the reader leaving is not vnctl's failure; stop quietly instead of a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

process.exitCode = await runVnctl(process.argv.slice(2), process.env, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  isTTY: process.stdout.isTTY === true,
});
