// Typed errors of the lab library: each has a stable `code`, and input errors name the field.
import { CodedError } from '../util/errors.js';

/** Base class of every lab error; `code` is stable and meant for programs, `message` for people. */
export class LabError extends CodedError {}

/** A topology, flag or API argument is invalid; `field` names it (e.g. `vms[1].mac`). */
export class LabInputError extends LabError {
  readonly field: string;
  constructor(field: string, reason: string) {
    super('VNET_LAB_BAD_INPUT', `${field}: ${reason}`);
    this.field = field;
  }
}

/** No lab state (`/tmp/<prefix>/lab.json`) exists for this prefix. */
export class LabNotFoundError extends LabError {
  constructor(prefix: string) {
    super('VNET_LAB_NOT_FOUND', `no lab with prefix '${prefix}' is up (no /tmp/${prefix}/lab.json)`);
  }
}

/** A lab with this prefix is already up (refuse to build a second one over it). */
export class LabExistsError extends LabError {
  constructor(prefix: string) {
    super(
      'VNET_LAB_EXISTS',
      `a lab with prefix '${prefix}' is already up; run 'vnet lab down --prefix ${prefix}' or choose another --prefix`,
    );
  }
}

/** A host, VM or process name that the lab does not know. */
export class LabUnknownNodeError extends LabError {
  constructor(kind: string, name: string, known: string[]) {
    super('VNET_LAB_UNKNOWN_NODE', `unknown ${kind} '${name}' (known: ${known.join(', ') || 'none'})`);
  }
}

/** A command the lab ran (ip, ovs-vsctl, ...) failed; stderr is kept for the report. */
export class LabCommandError extends LabError {
  readonly cmd: string[];
  readonly exitCode: number | null;
  readonly stderr: string;
  constructor(cmd: string[], exitCode: number | null, stderr: string) {
    super(
      'VNET_LAB_COMMAND_FAILED',
      `${cmd.join(' ')} (exit ${exitCode ?? 'signal'}): ${stderr.trim() || '(no output)'}`,
    );
    this.cmd = cmd;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** Refusing an operation that could touch the machine outside the lab (e.g. a name clash with the root netns). */
export class LabSafetyError extends LabError {
  constructor(message: string) {
    super('VNET_LAB_UNSAFE', message);
  }
}

/** Something did not happen in time (ping, daemon start, capture). */
export class LabTimeoutError extends LabError {
  constructor(what: string, ms: number) {
    super('VNET_LAB_TIMEOUT', `${what}: no success within ${ms} ms`);
  }
}
