// Resource and feed types for clients (re-exported from the model so the agent and vnctl share the server's contract).
export type * from '../model/types.js';
export type { ErrorBody as ErrorBodyLike } from '../model/errors.js';
