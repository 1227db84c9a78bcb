// Typed errors of the OVSDB client: every failure a caller can see has a class and a stable `code`.
import { CodedError } from '../util/errors.js';

/** Base class of every OVSDB client error: `code` is stable and meant for programs; `message` is for people. */
export class OvsdbError extends CodedError {}

/** The byte stream from the peer is not concatenated JSON, or a message is larger than allowed. */
export class OvsdbFramingError extends OvsdbError {
  constructor(
    readonly reason: 'too-large' | 'bad-json' | 'bad-top-level',
    message: string,
    options?: { cause?: unknown },
  ) {
    super('OVSDB_FRAMING', message, options);
  }
}

/** A well-formed JSON value that is not a JSON-RPC 1.0 message we can use (names the field). */
export class OvsdbProtocolError extends OvsdbError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('OVSDB_PROTOCOL', `${field}: ${message}`);
  }
}

/** The server answered a request with a JSON-RPC `error` (e.g. "unknown database", "canceled"). */
export class OvsdbRpcError extends OvsdbError {
  constructor(
    readonly method: string,
    readonly error: unknown,
  ) {
    super('OVSDB_RPC', `${method}: ${typeof error === 'string' ? error : JSON.stringify(error)}`);
  }
}

/** The connection is (or went) down while a request was outstanding, or the client is closed. */
export class OvsdbDisconnectedError extends OvsdbError {
  constructor(message = 'not connected to ovsdb-server') {
    super('OVSDB_DISCONNECTED', message);
  }
}

/** The caller aborted a request: we sent `cancel` and stopped waiting for the reply. */
export class OvsdbCanceledError extends OvsdbError {
  constructor(readonly method: string) {
    super('OVSDB_CANCELED', `${method} canceled`);
  }
}

/** A request or a wait for state did not complete in time. */
export class OvsdbTimeoutError extends OvsdbError {
  constructor(message: string) {
    super('OVSDB_TIMEOUT', message);
  }
}

/**
 * A transaction was not committed. `opIndex` is the failing operation (or -1 when the commit
 * itself failed, RFC 7047 §4.1.3 extra result), `op` is that operation's JSON, `error` and
 * `details` are what ovsdb-server said (e.g. "constraint violation", "referential integrity
 * violation", "timed out").
 */
export class OvsdbTransactionError extends OvsdbError {
  constructor(
    readonly opIndex: number,
    readonly op: unknown,
    readonly error: string,
    readonly details: string | undefined,
    readonly comment?: string,
  ) {
    const opName = (op as { op?: string } | undefined)?.op;
    const table = (op as { table?: string } | undefined)?.table;
    const where = opIndex < 0 ? 'commit' : `operation ${opIndex} (${opName ?? '?'}${table ? ` ${table}` : ''})`;
    super(
      'OVSDB_TRANSACTION',
      `ovsdb transaction${comment ? ` "${comment}"` : ''} failed at ${where}: ${error}${details ? `: ${details}` : ''}`,
    );
  }
}

/** Bad input to an intent-level operation (names the field and the reason). */
export class OvsdbInputError extends OvsdbError {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super('OVSDB_INPUT', `${field}: ${reason}`);
  }
}

/** An intent referred to a bridge/port that does not exist. */
export class OvsdbNotFoundError extends OvsdbError {
  constructor(
    readonly kind: 'bridge' | 'port' | 'interface',
    readonly objectName: string,
  ) {
    super('OVSDB_NOT_FOUND', `${kind} ${JSON.stringify(objectName)} does not exist`);
  }
}
