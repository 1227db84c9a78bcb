// Typed errors of the OpenFlow library: decode/encode failures, switch-reported errors, connection faults.
import { CodedError } from '../util/errors.js';

/** Base of every error this library throws; `code` is stable and safe to switch on. */
export class OpenFlowLibError extends CodedError {}

/** Bytes that are not a valid OpenFlow message; `field` names what was short or wrong. */
export class OpenFlowDecodeError extends OpenFlowLibError {
  constructor(
    readonly field: string,
    message: string,
    readonly offset = -1,
  ) {
    super('OF_DECODE', `${field}: ${message}${offset >= 0 ? ` (at byte ${offset})` : ''}`);
  }
}

/** A model value that cannot be encoded (out of range, missing prerequisite, ...). */
export class OpenFlowEncodeError extends OpenFlowLibError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('OF_ENCODE', `${field}: ${message}`);
  }
}

/** The switch answered a request with OFPT_ERROR; type/code are decoded to their spec names. */
export class OpenFlowError extends OpenFlowLibError {
  constructor(
    readonly type: number,
    readonly errCode: number,
    readonly typeName: string,
    readonly codeName: string,
    /** The first bytes of the offending request, as the switch echoed them. */
    readonly data: Uint8Array,
  ) {
    super('OF_ERROR', `switch rejected request: ${typeName}/${codeName}`);
  }
}

/** The connection went away (closed, timed out, protocol fault) before a reply arrived. */
export class ConnectionClosedError extends OpenFlowLibError {
  constructor(reason: string) {
    super('OF_CLOSED', `connection closed: ${reason}`);
  }
}

/** A request got no reply in time. */
export class RequestTimeoutError extends OpenFlowLibError {
  constructor(what: string, ms: number) {
    super('OF_TIMEOUT', `${what}: no reply within ${ms} ms`);
  }
}
