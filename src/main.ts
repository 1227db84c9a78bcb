// Entry point of `bin/vnet`: one subcommand per process kind, each defined in its own area. It lives at the top
// of src/ (not in src/cli) because it is the one file that starts every room: server, agent, lab and demo.
import { Command } from '@commander-js/extra-typings';
import { VERSION } from './util/version.js';

// Each room's command module, loaded only when it runs: the server's (Fastify, SQLite, PostgreSQL, Neutron) took
// most of an agent's start-up, and a restarted agent's flows wait on it (docs/benchmarks.md, agent restart).
const COMMANDS = {
  server: async () => (await import('./server/command.js')).serverCommand(),
  agent: async () => (await import('./agent/command.js')).agentCommand(),
  lab: async () => (await import('./lab/command.js')).labCommand(),
  demo: async () => (await import('./demo/command.js')).demoCommand(),
  dataset: async () => (await import('./openvnet/command.js')).datasetCommand(),
};
const named = process.argv[2];
// A known subcommand: that one alone; anything else (help, --version, a typo): all, so help lists them.
const wanted = named !== undefined && Object.hasOwn(COMMANDS, named) ? [named as keyof typeof COMMANDS] : null;

const program = new Command('vnet')
  .description('vnet: virtual networks for VMs and containers on Open vSwitch (OpenVNet-compatible)')
  .version(VERSION)
  .showHelpAfterError();
for (const name of wanted ?? (Object.keys(COMMANDS) as (keyof typeof COMMANDS)[]))
  program.addCommand(await COMMANDS[name]());

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
