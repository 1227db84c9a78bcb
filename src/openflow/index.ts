// Public entry of the OpenFlow 1.3 library: codec, field registry, formatter, normalizer, switch connection.
export * from './actions.js';
export * from './buffer.js';
export * from './connection.js';
export * from './constants.js';
export * from './errors.js';
export * from './fields.js';
export * from './format.js';
export * from './match.js';
export * from './messages.js';
export * from './normalize.js';
export { FlowModsError } from './replies.js';
export * from './switch-client.js';
export * from './switch-server.js';
export * from './types.js';
