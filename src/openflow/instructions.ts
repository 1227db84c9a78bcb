// Instructions: OVS's order, encode and decode (the actions inside them go through action-encode/action-decode).
import type { Reader, Writer } from './buffer.js';
import { OFPIT } from './constants.js';
import { OpenFlowDecodeError, OpenFlowEncodeError } from './errors.js';
import { decodeActions } from './action-decode.js';
import { encodeActions } from './action-encode.js';
import { u64 } from './action-layout.js';
import type { Instruction } from './types.js';

/** OVS's instruction order; the instruction set is unordered by spec, so we write it this way. */
const INSTRUCTION_ORDER: Record<Instruction['type'], number> = {
  meter: 0,
  apply_actions: 1,
  clear_actions: 2,
  write_actions: 3,
  write_metadata: 4,
  goto_table: 5,
};

export function sortInstructions(ins: readonly Instruction[]): Instruction[] {
  let sorted = true;
  for (let i = 1; i < ins.length && sorted; i++) {
    sorted = INSTRUCTION_ORDER[(ins[i - 1] as Instruction).type] <= INSTRUCTION_ORDER[(ins[i] as Instruction).type];
  }
  return sorted
    ? (ins as Instruction[])
    : [...ins].sort((a, b) => INSTRUCTION_ORDER[a.type] - INSTRUCTION_ORDER[b.type]);
}

export function encodeInstructions(w: Writer, ins: readonly Instruction[], what = 'instructions'): void {
  const seen = new Set<string>();
  sortInstructions(ins).forEach((i, n) => {
    const iw = `${what}[${n}]`;
    if (seen.has(i.type)) throw new OpenFlowEncodeError(iw, `${i.type} given twice`);
    seen.add(i.type);
    const start = w.pos;
    switch (i.type) {
      case 'goto_table':
        if (!Number.isInteger(i.table) || i.table < 0 || i.table > 254)
          throw new OpenFlowEncodeError(`${iw}.table`, `${i.table} is not 0..254`);
        w.u16(OFPIT.GOTO_TABLE).u16(8).u8(i.table).zeros(3);
        return;
      case 'write_metadata':
        w.u16(OFPIT.WRITE_METADATA)
          .u16(24)
          .zeros(4)
          .u64(u64(i.value, `${iw}.value`))
          .u64(u64(i.mask, `${iw}.mask`));
        return;
      case 'apply_actions':
      case 'write_actions':
        // OVS drops an empty apply_actions (it means nothing); so do we, to stay byte-identical.
        if (i.type === 'apply_actions' && i.actions.length === 0) return;
        w.u16(i.type === 'apply_actions' ? OFPIT.APPLY_ACTIONS : OFPIT.WRITE_ACTIONS)
          .u16(0)
          .zeros(4);
        encodeActions(w, i.actions, `${iw}.actions`);
        w.setU16(start + 2, w.pos - start);
        return;
      case 'clear_actions':
        w.u16(OFPIT.CLEAR_ACTIONS).u16(8).zeros(4);
        return;
      case 'meter':
        w.u16(OFPIT.METER).u16(8).u32(i.meterId);
        return;
    }
  });
}

export function decodeInstructions(r: Reader, what = 'instructions'): Instruction[] {
  const out: Instruction[] = [];
  while (r.remaining > 0) {
    const at = r.pos;
    const iw = `${what}[${out.length}]`;
    const type = r.u16(`${iw}.type`);
    const len = r.u16(`${iw}.len`);
    if (len < 8 || len % 8 !== 0)
      throw new OpenFlowDecodeError(`${iw}.len`, `${len} is not a positive multiple of 8`, at);
    r.pos = at;
    const b = r.sub(len, iw);
    b.skip(4, iw);
    switch (type) {
      case OFPIT.GOTO_TABLE:
        out.push({ type: 'goto_table', table: b.u8(`${iw}.table_id`) });
        break;
      case OFPIT.WRITE_METADATA:
        b.skip(4, iw);
        out.push({ type: 'write_metadata', value: b.u64(`${iw}.metadata`), mask: b.u64(`${iw}.metadata_mask`) });
        break;
      case OFPIT.APPLY_ACTIONS:
      case OFPIT.WRITE_ACTIONS:
        b.skip(4, iw);
        out.push({
          type: type === OFPIT.APPLY_ACTIONS ? 'apply_actions' : 'write_actions',
          actions: decodeActions(b, `${iw}.actions`),
        });
        break;
      case OFPIT.CLEAR_ACTIONS:
        out.push({ type: 'clear_actions' });
        break;
      case OFPIT.METER:
        out.push({ type: 'meter', meterId: b.u32(`${iw}.meter_id`) });
        break;
      default:
        throw new OpenFlowDecodeError(`${iw}.type`, `unsupported instruction ${type}`, at);
    }
  }
  return out;
}
