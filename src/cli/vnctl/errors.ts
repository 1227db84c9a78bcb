// vnctl's error classes: each has a stable `code` and the exit status the process ends with.

/** Base of every vnctl failure; `message` is the single line printed after `vnctl: `. */
export abstract class VnctlError extends Error {
  abstract readonly code: string;
  abstract readonly exitCode: number;
}

/** A failure that is only its message: its class says the code and exit status. */
function simpleError(name: string, code: string, exitCode: number) {
  return class extends VnctlError {
    readonly code = code;
    readonly exitCode = exitCode;
    override readonly name = name;
  };
}

/** The command line itself is wrong (unknown resource/verb, bad option value, missing uuid). */
export class UsageError extends simpleError('UsageError', 'VNCTL_USAGE', 2) {}

/** The API answered with an error status; carries OpenVNet's error body fields when present. */
export class ApiError extends VnctlError {
  readonly code = 'VNCTL_API';
  readonly exitCode = 1;
  override readonly name = 'ApiError';
  constructor(
    message: string,
    readonly status: number,
    readonly apiError: string | undefined,
    readonly apiCode: string | undefined,
    readonly apiMessage: string | undefined,
    /** The parsed error body, when it was JSON: printed with -o yaml/json as OpenVNet's vnctl did. */
    readonly body?: unknown,
  ) {
    super(message);
  }
}

/** The API answered 2xx but with a body that is not JSON. */
export class BadReplyError extends simpleError('BadReplyError', 'VNCTL_BAD_REPLY', 1) {}

/** The API could not be reached (refused, unresolvable, timed out, reset). */
export class TransportError extends simpleError('TransportError', 'VNCTL_TRANSPORT', 3) {}
