// A translation's static address entries, checked as the form of their translation reads them (the model's
// STATIC_ADDRESS_SIDES): which side is outside depends on the interface the translation is on, so the rules on
// outside addresses and ports — and the refusals of an entry written in the other form's direction — live here.
import { ArgumentError, DuplicateValue } from '../../model/errors.js';
import { inSubnet } from '../../model/ipv4.js';
import { staticAddressSides, type TranslationForm, translationForm } from '../../model/resources/translations.js';
import type { Doc } from '../../store/store.js';
import type { WriteContext } from '../write-context.js';

interface FormOf {
  form: TranslationForm;
  iface: Doc | undefined;
  network: Doc | undefined;
}

/** The form of translation `t`, from its interface and that interface's network. */
async function formOf(ctx: WriteContext, t: Doc): Promise<FormOf> {
  const iface = await ctx.get('interfaces', t.interface_uuid as string);
  if (!iface) return { form: 'vm', iface, network: undefined };
  const lease = iface.network_uuid ? undefined : await ctx.findOne('ip_leases', { interface_uuid: iface.uuid });
  const nw = (iface.network_uuid ?? lease?.network_uuid) as string | null | undefined;
  const network = nw ? await ctx.get('networks', nw) : undefined;
  const form = translationForm(
    { mode: iface.mode as string, enable_routing: iface.enable_routing as boolean },
    network?.network_mode as string | undefined,
  );
  return { form, iface, network };
}

type Entry = Parameters<typeof staticAddressSides>[1];

/**
 * Entry `item` may join translation `t`: an entry in the other form's direction is refused, as are an outside
 * address translated twice (whole, or the same port) and one outside address forwarding to two VMs (the segment
 * hears one answer for it).
 */
export async function checkStaticAddress(ctx: WriteContext, t: Doc, item: Entry): Promise<void> {
  const mine = await formOf(ctx, t);
  const { inside, outside } = staticAddressSides(mine.form, item);
  const net = mine.network;
  if (mine.form === 'gateway' && net) {
    if (!inSubnet(outside.address, net.ipv4_network as string, (net.ipv4_prefix as number) ?? 24))
      throw new ArgumentError(
        outside.addressField,
        `${t.uuid} is on router interface ${mine.iface!.uuid} of physical network ${net.uuid} (${net.ipv4_network}/${net.ipv4_prefix}), so ${outside.addressField} is the outside address (OpenVNet's form; egress is the VM's): ${outside.address} is not in it`,
      );
  } else if (mine.iface?.mode === 'vif') {
    const held = (await ctx.find('ip_leases', { interface_uuid: mine.iface.uuid })).map((l) => l.ipv4_address);
    if (!held.includes(inside.address) && held.includes(outside.address))
      throw new ArgumentError(
        inside.addressField,
        `${t.uuid} is on VM interface ${mine.iface.uuid}, so ${inside.addressField} is its own address and ${outside.addressField} the outside one; ${outside.address} is its address — OpenVNet's direction (ingress outside) is taken on a router interface of the physical network`,
      );
  }
  for (const other of await ctx.find('translations')) {
    if (other.mode !== 'static_address') continue;
    const theirs = other.uuid === t.uuid ? mine : await formOf(ctx, other);
    for (const sa of (other.static_addresses ?? []) as Entry[]) {
      const o = staticAddressSides(theirs.form, sa);
      if (o.outside.address !== outside.address) continue;
      if (o.outside.port === null || outside.port === null)
        throw new DuplicateValue(outside.addressField, outside.address, String(other.uuid));
      // One entry translates both TCP and UDP: the same outside port is taken for both.
      if (o.outside.port === outside.port)
        throw new DuplicateValue(outside.portField, `${outside.address} port ${outside.port}`, String(other.uuid));
      if (o.inside.address !== inside.address)
        throw new ArgumentError(
          outside.addressField,
          `${outside.address} already forwards ports to ${o.inside.address} (${other.uuid}): one outside address is answered on the segment for one VM`,
        );
    }
  }
}
