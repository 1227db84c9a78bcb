// Public surface of the OVSDB client: import from 'src/ovsdb/index.js'.
export * from './bridge.js';
export * from './cache.js';
export * from './client.js';
export * from './data.js';
export * from './errors.js';
export * from './framing.js';
export * from './ops.js';
export * from './vswitch-schema.js';
export * from './vswitch-view.js';
