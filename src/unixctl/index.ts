// Public surface of the unixctl client (what ovs-appctl speaks) and the ofproto/trace parser: import from 'src/unixctl/index.js'.
export * from './client.js';
export * from './errors.js';
export * from './trace.js';
export * from './conntrack.js';
