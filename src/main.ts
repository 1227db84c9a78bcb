// Entry point of `bin/vnet`: one subcommand per process kind, each defined in its own area. It lives at the top
// of src/ (not in src/cli) because it is the one file that starts every room: server, agent, lab and demo.
import { Command } from '@commander-js/extra-typings';
import { agentCommand } from './agent/command.js';
import { demoCommand } from './demo/command.js';
import { labCommand } from './lab/command.js';
import { serverCommand } from './server/command.js';
import { VERSION } from './util/version.js';

const program = new Command('vnet')
  .description('vnet: virtual networks for VMs and containers on Open vSwitch (OpenVNet-compatible)')
  .version(VERSION)
  .addCommand(serverCommand())
  .addCommand(agentCommand())
  .addCommand(labCommand())
  .addCommand(demoCommand())
  .showHelpAfterError();

// Node ends the process with status 13 when the event loop empties while this await is pending (an
// operation nothing can complete any more); Node 20 says nothing about it. Say it. process.exit()
// from a command sets its own code, so exitCode 13 before `settled` means exactly that case.
let settled = false;
process.on('exit', () => {
  if (!settled && process.exitCode === 13)
    process.stderr.write(
      'vnet: internal error: stopped with an operation still pending and nothing left that could complete it ' +
        "(Node's 'unsettled top-level await', exit status 13); please report this bug\n",
    );
});
await program.parseAsync(process.argv);
settled = true;
