// `vnet agent`: placeholder until its issue lands.
import { Command } from '@commander-js/extra-typings';
import { notImplemented } from '../util/not-implemented.js';

export function agentCommand() {
  return new Command('agent').description('agent (not implemented yet)').action(notImplemented('vnet agent'));
}
