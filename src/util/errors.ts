// The one base of the product's typed errors: a stable `code` for programs, `message` for people.
// Each library (ovsdb, openflow, packet, ...) derives its own base from it so callers can still
// catch "any error of that library" with instanceof.

/** An Error with a stable machine-readable `code`; `name` is the concrete class's name. */
export class CodedError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
