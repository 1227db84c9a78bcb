// Translations: OpenVNet's static address translations (1:1 NAT) of an interface, and vnet's source NAT of a
// router's external interface (mode snat: the route link's VMs without a floating IP leave from its address).
import { f, item, resource, SET } from '../resource.js';
import { timestamps, uuidField } from './common.js';

const optional = { create: 'optional', nullable: true } as const;

export const staticAddresses = item({
  segment: 'static_address',
  max: 1_000,
  field: 'static_addresses',
  prefix: null,
  doc: 'the static address pairs of a translation',
  fields: {
    ingress_ipv4_address: f.ipv4({
      create: 'required',
      doc: "the VM's address; on a physical network's router interface the outside one (OpenVNet's form)",
    }),
    egress_ipv4_address: f.ipv4({
      create: 'required',
      doc: "the outside address; on a physical network's router interface the VM's (OpenVNet's form)",
    }),
    ingress_port_number: f.int(1, 65535, {
      ...optional,
      doc: 'port of the ingress address (with egress_port_number): translates that TCP and UDP port only',
    }),
    egress_port_number: f.int(1, 65535, {
      ...optional,
      doc: 'port of the egress address (with ingress_port_number): translates that TCP and UDP port only',
    }),
    route_link_uuid: f.uuid('rl', { ...optional, doc: 'route link (rl-…)' }),
    ingress_network_uuid: f.uuid('nw', { ...optional, doc: 'inside network (nw-…)' }),
    egress_network_uuid: f.uuid('nw', { ...optional, doc: 'outside network (nw-…)' }),
  },
});

export const translations = resource({
  kind: 'translations',
  prefix: 'tr',
  doc: 'address translations (1:1 NAT of a VM; snat of a router gateway)',
  fields: {
    uuid: uuidField('tr'),
    interface_uuid: f.ref('if', 'cascade', { ...SET.required, filter: true, doc: 'interface translated' }),
    mode: f.enum(['static_address', 'snat'], {
      create: 'optional',
      default: 'static_address',
      doc: "static_address (floating IPs of a VM) or snat (a router interface on an external physical network: the other networks of its route links leave from the interface's address)",
    }),
    passthrough: f.bool({ ...SET.editable, default: false, doc: 'pass untranslated traffic' }),
    static_addresses: f.list(staticAddresses.schema, { doc: 'its address pairs (translations static_address add)' }),
    active_datapath_uuid: f.uuid('dp', {
      status: true,
      report: 'nullable',
      nullable: true,
      immutable: true,
      doc: 'the datapath that answers its floating addresses, or translates as the gateway, now (reported by that agent; null: nowhere)',
    }),
    ct_zone: f.int(1, 0xffff, {
      immutable: true,
      nullable: true,
      doc: "conntrack zone of a snat translation's connections, allocated by the server (null for static_address)",
    }),
    ...timestamps,
  },
});

/**
 * The two forms of a static_address translation, told apart by the interface it is on (docs/north-south.md
 * "Floating IPs: two forms"). `vm`: vnet's floating IP, on the VM's own interface — ingress is the VM's (inside)
 * address, egress the outside one. `gateway`: OpenVNet's, on a router interface (simulated, enable_routing) of a
 * physical network, as its wanedge dataset does — a packet entering the router there has the outside (ingress)
 * address and leaves it inward with the inside (egress) one. Either way the same 1:1 NAT of one VM.
 */
export const STATIC_ADDRESS_SIDES = {
  vm: { inside: 'ingress', outside: 'egress' },
  gateway: { inside: 'egress', outside: 'ingress' },
} as const;
export type TranslationForm = keyof typeof STATIC_ADDRESS_SIDES;

/** The form of a translation on interface `i`, whose network has mode `networkMode`. */
export function translationForm(
  i: { mode?: string | null; enable_routing?: boolean | null },
  networkMode: string | null | undefined,
): TranslationForm {
  return i.mode === 'simulated' && i.enable_routing === true && networkMode === 'physical' ? 'gateway' : 'vm';
}

export interface StaticAddressSide {
  address: string;
  /** null: the whole address (no port translation). */
  port: number | null;
  /** The request fields holding it, for errors. */
  addressField: string;
  portField: string;
}

/** A static address entry read as inside and outside by the translation's form. */
export function staticAddressSides(
  form: TranslationForm,
  sa: {
    ingress_ipv4_address: string;
    egress_ipv4_address: string;
    ingress_port_number?: number | null;
    egress_port_number?: number | null;
  },
): { inside: StaticAddressSide; outside: StaticAddressSide } {
  const side = (s: 'ingress' | 'egress'): StaticAddressSide => ({
    address: sa[`${s}_ipv4_address`],
    port: sa[`${s}_port_number`] ?? null,
    addressField: `${s}_ipv4_address`,
    portField: `${s}_port_number`,
  });
  const sides = STATIC_ADDRESS_SIDES[form];
  return { inside: side(sides.inside), outside: side(sides.outside) };
}
