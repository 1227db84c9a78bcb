// Public surface of the DNS service: what a query is answered with, the frame responder and the upstream forwarder.
export * from './answer.js';
export * from './forwarder.js';
export * from './responder.js';
