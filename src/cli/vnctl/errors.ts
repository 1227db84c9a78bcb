// vnctl's error classes: each has a stable `code` and the exit status the process ends with.

/** Base of every vnctl failure; `message` is the single line printed after `vnctl: `. */
export abstract class VnctlError extends Error {
  abstract readonly code: string;
  abstract readonly exitCode: number;
}

/** The command line itself is wrong (unknown resource/verb, bad option value, missing uuid). */
export class UsageError extends VnctlError {
  readonly code = 'VNCTL_USAGE';
  readonly exitCode = 2;
  override readonly name = 'UsageError';
}

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
export class BadReplyError extends VnctlError {
  readonly code = 'VNCTL_BAD_REPLY';
  readonly exitCode = 1;
  override readonly name = 'BadReplyError';
}

/** The API could not be reached (refused, unresolvable, timed out, reset). */
export class TransportError extends VnctlError {
  readonly code = 'VNCTL_TRANSPORT';
  readonly exitCode = 3;
  override readonly name = 'TransportError';
}
