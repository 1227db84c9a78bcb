// What the flow builders (flows-*.ts) see of the compiler: the model view, this host, its bindings and the
// networks present here. Its own file so the compiler (flows.ts) imports the builders and never the reverse.
import type { Binding, ChangeKey, LocalContext, ModelView } from './model-view.js';

/** How much of a network this host needs: 'full' (it has local ports) or 'routed' (only reachable by a router). */
export type Presence = 'full' | 'routed';

/** What owner computations see. `dep` records an input key of the owner being computed. */
export interface CompileContext {
  view: ModelView;
  local: LocalContext;
  bindings: ReadonlyMap<string, Binding>;
  boundByNetwork: ReadonlyMap<string, ReadonlySet<string>>;
  present: ReadonlyMap<string, Presence>;
  dep(key: ChangeKey): void;
  /** Report bad model data that was skipped (the owner keeps its other flows). */
  report(err: unknown): void;
}

/** Whether an interface's traffic goes through conntrack and the ACL tables (it has security groups or filters). */
export function isFiltered(ctx: CompileContext, uuid: string): boolean {
  ctx.dep(`interfaces:${uuid}`);
  ctx.dep(`iface-filters:${uuid}`);
  const i = ctx.view.interfaces.get(uuid);
  if (!i) return false;
  return (i.security_group_uuids?.length ?? 0) > 0 || (ctx.view.filtersByInterface.get(uuid)?.size ?? 0) > 0;
}
