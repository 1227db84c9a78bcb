// Actions (OF1.3 standard + Nicira extensions) and instructions: encode/decode between the Flow model and bytes.
// Encodings follow the choices OVS makes for OF1.3, so our bytes equal what `ovs-ofctl` would send
// and what flow stats give back; see normalizeActions() in normalize.ts for the canonical model.
// This file is the public face; the work is in action-layout.ts (shared pieces), action-encode.ts,
// action-decode.ts and instructions.ts.
export { decodeActions } from './action-decode.js';
export { encodeActions, maskRuns, splitMaskedSetField } from './action-encode.js';
export { decodeInstructions, encodeInstructions, sortInstructions } from './instructions.js';
