// API error classes: OpenVNet's error names and codes (openvnet.md §2.1) plus ours, each with a stable `code`.

/** Body of every error reply: OpenVNet's `{error, message, code}`, plus the offending `field` when there is one. */
export interface ErrorBody {
  error: string;
  message: string;
  code: string;
  field?: string;
}

/** Base of every error the API answers with; `status` is the HTTP status, `code` OpenVNet's error code. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  constructor(status: number, code: string, name: string, message: string, field?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.name = name;
    this.field = field;
  }
  toBody(): ErrorBody {
    const body: ErrorBody = { error: `Vnet::Endpoints::Errors::${this.name}`, message: this.message, code: this.code };
    if (this.field !== undefined) body.field = this.field;
    return body;
  }
}

/** 404/100: a well-formed uuid that names nothing. */
export class UnknownUUIDResource extends ApiError {
  constructor(uuid: string, field?: string) {
    super(404, '100', 'UnknownUUIDResource', field ? `${field}: unknown uuid ${uuid}` : `unknown uuid ${uuid}`, field);
  }
}

/** 400/101: a uuid that does not match `^<prefix>-[a-z0-9]{1,16}$`. */
export class InvalidUUID extends ApiError {
  constructor(field: string, value: string, prefix: string) {
    super(400, '101', 'InvalidUUID', `${field}: invalid uuid '${value}' (expected ${prefix}-[a-z0-9]{1,16})`, field);
  }
}

/** 400/102: POST with a uuid that already exists. */
export class DuplicateUUID extends ApiError {
  constructor(uuid: string) {
    super(400, '102', 'DuplicateUUID', `uuid: ${uuid} already exists`, 'uuid');
  }
}

/** 400/103: an id that exists but does not fit (e.g. a relation to the wrong object). */
export class InvalidID extends ApiError {
  constructor(field: string, message: string) {
    super(400, '103', 'InvalidID', `${field}: ${message}`, field);
  }
}

/** 400/110: a parameter with a bad value (type, range, format, unknown parameter, immutable field). */
export class ArgumentError extends ApiError {
  constructor(field: string, message: string) {
    super(400, '110', 'ArgumentError', `${field}: ${message}`, field);
  }
}

/** 400/111: a required parameter is missing; the message is the parameter name, as OpenVNet's was. */
export class MissingArgument extends ApiError {
  constructor(field: string) {
    super(400, '111', 'MissingArgument', field, field);
  }
}

/** 400/112: the relation being created already exists. */
export class RelationAlreadyExists extends ApiError {
  constructor(message: string, field?: string) {
    super(400, '112', 'RelationAlreadyExists', message, field);
  }
}

/** 409/113: delete refused because other objects depend on this one (OpenVNet declared it as a 400). */
export class DeleteRestrictionError extends ApiError {
  readonly dependents: string[];
  constructor(uuid: string, dependents: string[]) {
    super(409, '113', 'DeleteRestrictionError', `${uuid} is still used by: ${dependents.join(', ')}`);
    this.dependents = dependents;
  }
}

/** 404/114: a sub-resource without uuid (static filter rule, static address) was not found. */
export class UnknownResource extends ApiError {
  constructor(message: string) {
    super(404, '114', 'UnknownResource', message);
  }
}

/** 409/120 (ours): a value that must be unique is taken (MAC, IP in a network, dpid). */
export class DuplicateValue extends ApiError {
  constructor(field: string, value: string, owner: string) {
    super(409, '120', 'DuplicateValue', `${field}: ${value} is already used by ${owner}`, field);
  }
}

/** 400/121 (ours): the field exists but cannot be changed after creation. */
export class ImmutableField extends ApiError {
  constructor(field: string) {
    super(400, '121', 'ImmutableField', `${field}: immutable, delete and re-create the object to change it`, field);
  }
}

/** 404/122 (ours): no route for this method and path. */
export class RouteNotFound extends ApiError {
  constructor(method: string, path: string) {
    super(404, '122', 'RouteNotFound', `no such endpoint: ${method} ${path}`);
  }
}

/** 400/123 (ours): the request body cannot be parsed (broken JSON, wrong content type, too large). */
export class MalformedRequest extends ApiError {
  constructor(message: string, status = 400) {
    super(status, '123', 'MalformedRequest', message);
  }
}

/** 503/124 (ours): the server cannot serve now (store closed, shutting down). */
export class Unavailable extends ApiError {
  /** When set, the reply's Retry-After: the server is busy rather than broken, and says when to ask again. */
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(503, '124', 'Unavailable', message);
  }
}

/** 400/125 (ours): the request names something the API knows but vnet does not do (never stored to be ignored). */
export class NotSupported extends ApiError {
  constructor(field: string, message: string) {
    super(400, '125', 'NotSupported', `${field}: ${message}`, field);
  }
}

/** 401/130 (ours): no token, or one that is unknown, revoked, expired or malformed. */
export class Unauthenticated extends ApiError {
  constructor(message: string) {
    super(401, '130', 'Unauthenticated', message);
  }
}

/** 403/131 (ours): the token is valid but its role may not do this (or not to this object). */
export class Forbidden extends ApiError {
  constructor(message: string, field?: string) {
    super(403, '131', 'Forbidden', message, field);
  }
}

/** 429/132 (ours): too many open streams (or requests) for this credential or the server; retry later. */
export class TooManyRequests extends ApiError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(429, '132', 'TooManyRequests', message);
  }
}

/** 409/133 (ours): a limit on how many of something may exist (items per parent) is reached. */
export class LimitExceeded extends ApiError {
  constructor(field: string, message: string) {
    super(409, '133', 'LimitExceeded', `${field}: ${message}`, field);
  }
}

/** 504/134 (ours): a request relayed to an agent (a trace) got no answer in time. */
export class AgentTimeout extends ApiError {
  constructor(message: string) {
    super(504, '134', 'AgentTimeout', message);
  }
}

/** 502/135 (ours): the agent a request was relayed to answered with an error of its own. */
export class AgentFailed extends ApiError {
  constructor(nodeId: string, message: string) {
    super(502, '135', 'AgentFailed', `the agent of node ${nodeId} could not do it: ${message}`);
  }
}
