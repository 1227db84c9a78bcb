// Typed errors of the packet codecs: every failure names the field that was short or wrong.
import { CodedError } from '../util/errors.js';

/** Base class of every codec error; `code` is stable and safe to switch on. */
export class PacketError extends CodedError {
  constructor(
    code: string,
    /** Dotted name of the field being read or written, e.g. `ipv4.total_length`. */
    readonly field: string,
    message: string,
  ) {
    super(code, message);
  }
}

/** The input ended before the named field was complete. */
export class PacketTruncatedError extends PacketError {
  constructor(
    field: string,
    readonly needed: number,
    readonly available: number,
  ) {
    super('PACKET_TRUNCATED', field, `${field}: truncated (need ${needed} bytes, ${available} available)`);
  }
}

/** The named field holds a value the protocol does not allow (bad version, length, checksum...). */
export class PacketMalformedError extends PacketError {
  constructor(field: string, reason: string) {
    super('PACKET_MALFORMED', field, `${field}: ${reason}`);
  }
}

/** A value handed to an encoder cannot be represented on the wire. */
export class PacketValueError extends PacketError {
  constructor(field: string, reason: string) {
    super('PACKET_INVALID_VALUE', field, `${field}: ${reason}`);
  }
}

/** True for errors thrown by the codecs (as opposed to programming errors). */
export function isPacketError(e: unknown): e is PacketError {
  return e instanceof PacketError;
}
