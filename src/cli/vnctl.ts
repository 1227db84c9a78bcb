// Entry point of `bin/vnctl`: the OpenVNet-compatible CLI (see docs/vnctl.md); the work is in ./vnctl/.
import { runVnctl } from './vnctl/main.js';

process.exitCode = await runVnctl(process.argv.slice(2), process.env, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
