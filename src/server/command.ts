// `vnet server`: placeholder until its issue lands.
import { Command } from '@commander-js/extra-typings';
import { notImplemented } from '../util/not-implemented.js';

export function serverCommand() {
  return new Command('server').description('server (not implemented yet)').action(notImplemented('vnet server'));
}
