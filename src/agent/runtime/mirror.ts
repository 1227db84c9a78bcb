// A plain copy of the feed's resources keyed by uuid: what the runtime itself reads (identity,
// what the server shows for bindings and status); the pipeline keeps its own indexed view.
import type { FeedChange } from './deps.js';

export type Item = Record<string, unknown>;

export interface DatapathItem {
  uuid: string;
  display_name?: string;
  dpid: string;
  node_id?: string | null;
  ipv4_address?: string | null;
  is_connected?: boolean;
  flows_in_sync?: boolean;
  last_error?: string | null;
  reported_node_id?: string | null;
  encap?: 'gre' | 'vxlan' | null;
}

export interface InterfaceItem {
  uuid: string;
  status?: 'up' | 'down';
  active_datapath_uuid?: string | null;
  active_port_name?: string | null;
  mode?: string;
}

/** Canonical dpid form of the contract: "0x" + 16 lowercase hex digits. */
export function formatDpid(dpid: bigint): string {
  return `0x${dpid.toString(16).padStart(16, '0')}`;
}

/** Parses "0x…", plain hex or decimal spellings a user may have registered; null if unparsable. */
export function parseDpid(text: unknown): bigint | null {
  if (typeof text !== 'string' || text.length === 0) return null;
  try {
    if (/^0x[0-9a-f]{1,16}$/i.test(text)) return BigInt(text);
    if (/^[0-9a-f]{1,16}$/i.test(text)) return BigInt(`0x${text}`);
  } catch {
    return null;
  }
  return null;
}

export class ResourceMirror {
  revision = 0;
  private readonly tables = new Map<string, Map<string, Item>>();

  reset(revision: number, resources: Record<string, Item[]>): void {
    this.revision = revision;
    this.tables.clear();
    for (const [name, items] of Object.entries(resources)) {
      const t = new Map<string, Item>();
      for (const item of items) {
        const uuid = mirrorKey(name, item);
        if (uuid) t.set(uuid, item);
      }
      this.tables.set(name, t);
    }
  }

  apply(change: FeedChange): void {
    this.revision = Math.max(this.revision, change.revision);
    let t = this.tables.get(change.resource);
    if (!t) {
      t = new Map();
      this.tables.set(change.resource, t);
    }
    if (change.op === 'delete' || change.item === null) t.delete(change.uuid);
    else t.set(change.uuid, change.item);
  }

  get(resource: string, uuid: string): Item | undefined {
    return this.tables.get(resource)?.get(uuid);
  }

  all(resource: string): Item[] {
    return [...(this.tables.get(resource)?.values() ?? [])];
  }

  datapathByDpid(dpid: bigint): DatapathItem | undefined {
    for (const dp of this.all('datapaths')) if (parseDpid(dp.dpid) === dpid) return dp as unknown as DatapathItem;
    return undefined;
  }

  datapathsByNodeId(nodeId: string): DatapathItem[] {
    return this.all('datapaths').filter((d) => d.node_id === nodeId) as unknown as DatapathItem[];
  }

  interface(uuid: string): InterfaceItem | undefined {
    return this.get('interfaces', uuid) as InterfaceItem | undefined;
  }

  interfaces(): InterfaceItem[] {
    return this.all('interfaces') as unknown as InterfaceItem[];
  }
}

/** Relations have no uuid of their own: the feed names them "<dp>/<nw>". */
function mirrorKey(resource: string, item: Item): string | undefined {
  if (typeof item.uuid === 'string') return item.uuid;
  if (resource === 'datapath_networks') return `${item.datapath_uuid}/${item.network_uuid}`;
  if (resource === 'datapath_route_links') return `${item.datapath_uuid}/${item.route_link_uuid}`;
  return undefined;
}
