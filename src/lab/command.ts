// `vnet lab`: placeholder until its issue lands.
import { Command } from '@commander-js/extra-typings';
import { notImplemented } from '../util/not-implemented.js';

export function labCommand() {
  return new Command('lab').description('lab (not implemented yet)').action(notImplemented('vnet lab'));
}
