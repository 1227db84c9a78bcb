// OpenFlow 1.3 messages: the typed model and encodeMessage/decodeMessage for every message vnet sends or receives.
// This file is the public face; the work is in message-model.ts (the types), message-layout.ts (header,
// codes and structs both directions share), message-encode.ts and message-decode.ts.
export { decodeMessage } from './message-decode.js';
export { appendMessage, encodeMessage } from './message-encode.js';
export { type Header, MORE_FLAG, readHeader } from './message-layout.js';
// Every type of the model, as it declares them (a list here would be the model's a second time).
export type * from './message-model.js';
