// Request/reply bookkeeping of a switch session: which messages have no reply of their own, how an
// OFPT_ERROR becomes an OpenFlowError, how multipart replies are joined, and the error of a failed batch.
import { errorNames } from './constants.js';
import { OpenFlowDecodeError, OpenFlowError } from './errors.js';
import type { MultipartReplyBody, OFMessage } from './messages.js';

/** sendFlowMods failed: the first error, plus every failed mod with its index. */
export class FlowModsError extends OpenFlowError {
  readonly failures: { index: number; error: OpenFlowError }[];
  constructor(failures: { index: number; error: OpenFlowError }[], first: OpenFlowError) {
    super(first.type, first.errCode, first.typeName, first.codeName, first.data);
    this.failures = failures;
    this.message = `${failures.length} flow mod(s) rejected; first (#${failures[0]?.index}): ${first.typeName}/${first.codeName}`;
  }
}

/** Messages the switch does not answer: request() follows them with a barrier to learn they were processed. */
export const NO_REPLY = new Set<OFMessage['type']>([
  'flow_mod',
  'group_mod',
  'port_mod',
  'meter_mod',
  'packet_out',
  'set_config',
  'set_async',
  'nx_set_packet_in_format',
  'bundle_add',
]);

export function toOpenFlowError(m: Extract<OFMessage, { type: 'error' }>): OpenFlowError {
  const { typeName, codeName } = errorNames(m.errType, m.errCode, m.experimenter);
  return new OpenFlowError(m.errType, m.errCode, typeName, codeName, m.data);
}

/** One multipart reply from its parts (OFPMPF_MORE): the lists of the list-valued bodies are concatenated. */
export function mergeParts(parts: MultipartReplyBody[]): MultipartReplyBody {
  const first = parts[0];
  if (!first) throw new OpenFlowDecodeError('multipart', 'empty reply');
  if (parts.length === 1) return first;
  switch (first.mpType) {
    case 'flow':
      return { mpType: 'flow', flows: parts.flatMap((p) => (p.mpType === 'flow' ? p.flows : [])) };
    case 'table':
      return { mpType: 'table', tables: parts.flatMap((p) => (p.mpType === 'table' ? p.tables : [])) };
    case 'port_stats':
      return { mpType: 'port_stats', ports: parts.flatMap((p) => (p.mpType === 'port_stats' ? p.ports : [])) };
    case 'group_desc':
      return { mpType: 'group_desc', groups: parts.flatMap((p) => (p.mpType === 'group_desc' ? p.groups : [])) };
    case 'port_desc':
      return { mpType: 'port_desc', ports: parts.flatMap((p) => (p.mpType === 'port_desc' ? p.ports : [])) };
    default:
      return first;
  }
}
