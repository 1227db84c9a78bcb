// `vnet demo`: placeholder until its issue lands.
import { Command } from '@commander-js/extra-typings';
import { notImplemented } from '../util/not-implemented.js';

export function demoCommand() {
  return new Command('demo').description('demo (not implemented yet)').action(notImplemented('vnet demo'));
}
