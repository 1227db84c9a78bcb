// Typed errors of the unixctl client: every failure a caller can see is a UnixctlError with a stable `code`.
import { CodedError } from '../util/errors.js';

/**
 * Why a unixctl call failed:
 * - `connect`: the control socket could not be reached (missing, refused, not a socket, permission);
 * - `not-found`: no control socket of ovs-vswitchd in a run directory (the message lists what was tried);
 * - `timeout`: no reply within the call's time limit;
 * - `closed`: the daemon closed or reset the connection before replying;
 * - `framing`: the bytes it sent are not JSON, or the reply is larger than the cap;
 * - `protocol`: a JSON reply that is not a unixctl reply we can use (names the field);
 * - `rpc`: the daemon answered with an error (its message is kept as `ovsMessage`), e.g. an unknown
 *   command or a flow ofproto/trace could not parse.
 */
export type UnixctlFailure = 'connect' | 'not-found' | 'timeout' | 'closed' | 'framing' | 'protocol' | 'rpc';

/** A unixctl call (what `ovs-appctl` does) failed; `code` is `UNIXCTL_<REASON>` (e.g. `UNIXCTL_RPC`). */
export class UnixctlError extends CodedError {
  constructor(
    readonly reason: UnixctlFailure,
    message: string,
    readonly method?: string,
    /** For `rpc`: OVS's own error text, verbatim. */
    readonly ovsMessage?: string,
    options?: { cause?: unknown },
  ) {
    super(`UNIXCTL_${reason.toUpperCase().replace('-', '_')}`, message, options);
  }
}
