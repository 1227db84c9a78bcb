// Public entry of the vnet client library: HTTP API client, its errors, change-feed client and the shared resource types.
export * from './api-client.js';
export * from './errors.js';
export * from './feed-client.js';
export type * from './types.js';
