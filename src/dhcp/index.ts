// Public surface of the DHCP service: the responder, its context and how to derive it from the feed.
export * from './context.js';
export * from './mtu.js';
export * from './responder.js';
