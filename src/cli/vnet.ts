// Entry point of `bin/vnet`: one subcommand per process kind, each defined in its own area.
import { Command } from '@commander-js/extra-typings';
import { agentCommand } from '../agent/command.js';
import { demoCommand } from '../demo/command.js';
import { labCommand } from '../lab/command.js';
import { serverCommand } from '../server/command.js';
import { VERSION } from '../util/version.js';

const program = new Command('vnet')
  .description('vnet: virtual networks for VMs and containers on Open vSwitch (OpenVNet-compatible)')
  .version(VERSION)
  .addCommand(serverCommand())
  .addCommand(agentCommand())
  .addCommand(labCommand())
  .addCommand(demoCommand())
  .showHelpAfterError();

await program.parseAsync(process.argv);
