// Neutron's error body, `{"NeutronError": {"type", "message", "detail"}}`, and the translation of vnet's own API
// errors into it: the rules (references, addresses taken, objects in use) are vnet's, the names Neutron's.
import { ApiError } from '../../model/errors.js';

export class NeutronError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }

  body() {
    return { NeutronError: { type: this.type, message: this.message, detail: '' } };
  }
}

/** A bad value, named after its attribute (Neutron's InvalidInput). */
export const invalid = (attr: string, why: string) =>
  new NeutronError(400, 'InvalidInput', `Invalid input for ${attr}. Reason: ${why}.`);

export const notFound = (type: string, id: string) =>
  new NeutronError(404, `${type}NotFound`, `${type.replace(/([a-z])([A-Z])/g, '$1 $2')} ${id} could not be found.`);

/** What the client sees of an error vnet's rules raised while serving a request on `type` (Network, Port, ...). */
export function neutronErrorOf(err: unknown, type: string): NeutronError | null {
  if (err instanceof NeutronError) return err;
  if (!(err instanceof ApiError)) return null;
  const field = err.field ?? '';
  switch (err.name) {
    case 'UnknownUUIDResource':
      return new NeutronError(404, `${type}NotFound`, err.message);
    case 'DeleteRestrictionError':
      return new NeutronError(409, `${type}InUse`, err.message);
    case 'DuplicateValue':
      if (field === 'mac_address') return new NeutronError(409, 'MacAddressInUse', err.message);
      if (field === 'ipv4_address') return new NeutronError(409, 'IpAddressInUse', err.message);
      if (field === 'fixed_ips') return new NeutronError(409, 'IpAddressGenerationFailure', err.message);
      if (field === 'rule') return new NeutronError(409, 'SecurityGroupRuleExists', err.message);
      return new NeutronError(409, 'Conflict', err.message);
    case 'Forbidden':
      return new NeutronError(403, 'PolicyNotAuthorized', err.message);
    case 'Unauthenticated':
      return new NeutronError(401, 'Unauthorized', err.message);
    default:
      if (err.status >= 400 && err.status < 500)
        return new NeutronError(
          err.status === 404 ? 404 : err.status,
          err.status === 409 ? 'Conflict' : 'InvalidInput',
          err.message,
        );
      return new NeutronError(err.status, 'ServiceUnavailable', err.message);
  }
}
