// Typed errors of the agent process: each has a stable `code`, config errors name the option.
import { CodedError } from '../../util/errors.js';

/** Base class: every agent error carries a stable machine-readable code. */
export class AgentError extends CodedError {}

/** A command-line option or config value is invalid; `field` is the option's name. */
export class AgentConfigError extends AgentError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('AGENT_CONFIG_INVALID', `--${field}: ${message}`);
    this.field = field;
  }
}

/** The agent was stopped while an operation waited (bridge, datapath, switch). */
export class AgentStoppedError extends AgentError {
  constructor(what: string) {
    super('AGENT_STOPPED', `agent stopped while ${what}`);
  }
}

/** An error's message for logs and reports. */
export function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
