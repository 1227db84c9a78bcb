// Flows for filters and security groups (issue 7): stateful ACLs with conntrack and conjunctive matches.
import type { Flow } from '../../openflow/types.js';
import type { CompileContext } from './flows.js';

/**
 * Whether an interface's traffic goes through conntrack and the ACL tables.
 * TODO(issue 7): true once filter/security-group compilation lands; until then every interface is unfiltered.
 */
export function isFiltered(ctx: CompileContext, uuid: string): boolean {
  ctx.dep(`interfaces:${uuid}`);
  ctx.dep(`iface-filters:${uuid}`);
  return false;
}

/** ACL flows of every filtered local interface. TODO(issue 7). */
export function securityFlows(_ctx: CompileContext): Flow[] {
  return [];
}
