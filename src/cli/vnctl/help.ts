// vnctl's help text, generated from the command table so it cannot drift from what the parser accepts.
import type { HelpTopic } from './parse.js';
import { entryName, type OptionSpec, type RelationSpec, type ResourceSpec } from './spec.js';
import { LIST_OPTIONS, RESOURCES, TRACE_OPTIONS } from './table.js';

const dashed = (name: string) => name.replaceAll('_', '-');

function optionLines(options: readonly OptionSpec[], indent = '    '): string[] {
  if (options.length === 0) return [`${indent}(no options)`];
  const label = (o: OptionSpec) => {
    const entry = entryName(o);
    if (entry) return `--${dashed(entry)} ${(o.item ?? []).map((f) => f.toUpperCase()).join(',')}`;
    return `--${dashed(o.name)}${o.type === 'boolean' ? ' [true|false]' : o.type === 'integer' ? ' N' : ' VALUE'}`;
  };
  const labels = options.map(label);
  const width = Math.max(...labels.map((l) => l.length));
  const more = (o: OptionSpec) =>
    entryName(o) ? ` (repeat for more; --${dashed(o.name)} '[…]' gives the list as JSON, '' clears it)` : '';
  return options.map(
    (o, i) => `${indent}${labels[i]!.padEnd(width)}  ${o.help}${more(o)}${o.required ? ' (required)' : ''}`,
  );
}

const GLOBAL_HELP = [
  'Global options (anywhere on the line):',
  "  --api URL          the API, http://HOST:PORT (env VNET_API, or OpenVNet's VNET_WEBAPI=HOST:PORT;",
  '                     default http://127.0.0.1:9090)',
  "  -o, --output FMT   table (default), yaml (the API body, as OpenVNet's vnctl printed it) or json",
  '  --timeout SECONDS  give up on an unanswered call (default 30)',
  '  --token TOKEN      API token (env VNET_TOKEN, or VNET_TOKEN_FILE=FILE); a loopback-only server needs none',
  "  --ca-file FILE     PEM certificate(s) to verify an https API with (env VNET_CA_FILE; e.g. the server's tls.crt)",
  '  -h, --help         this help; vnctl RESOURCE --help for its verbs and options',
  '  --version          the vnctl version',
];

const OPTION_RULES = [
  'Options: --a-b and --a_b are the same; --opt value or --opt=value; booleans as --flag, --flag true',
  'or --flag false. Undeclared options are still sent, and the server names them if it rejects them.',
  'Exit status: 0 ok, 1 the API refused (its message is printed), 2 bad usage, 3 API unreachable.',
];

function topLevel(table: readonly ResourceSpec[]): string {
  const width = Math.max(...table.map((r) => r.name.length));
  return [
    'Usage: vnctl RESOURCE add [--options]',
    '       vnctl RESOURCE show [UUID…] [--limit N --offset N]',
    '       vnctl RESOURCE modify UUID [--options]',
    '       vnctl RESOURCE del UUID…',
    '       vnctl RESOURCE RELATION add|show|modify|del UUID [ITEM…] [--options]',
    '       vnctl batch [FILE]     one command a line (stdin without FILE); stops at the first failure',
    "       vnctl trace IF --dst ADDR [--proto icmp|tcp|udp] [--dport N] [--flows]   a packet's way (vnctl trace --help)",
    '',
    'The OpenVNet-compatible command line for vnet. Resource names may be singular or plural,',
    'with dashes or underscores (network_service, network-services).',
    '',
    'Resources:',
    ...table.map((r) => {
      const extras = [...r.relations.map((x) => x.name), ...r.actions.map((a) => a.name)];
      return `  ${r.name.padEnd(width)}  ${r.help}${extras.length ? ` [${extras.join(', ')}]` : ''}`;
    }),
    '',
    ...GLOBAL_HELP,
    '',
    ...OPTION_RULES,
    '',
  ].join('\n');
}

function relationUsage(r: ResourceSpec, rel: RelationSpec): string[] {
  const owner = r.prefix.toUpperCase();
  const item = rel.item ?? '';
  const head = `vnctl ${r.name} ${rel.name}`;
  const lines: string[] = [];
  if (rel.add) {
    lines.push(`  ${head} add ${owner}${rel.add.target === 'path' ? ` ${item}` : ''} [--options]`);
    lines.push(...optionLines(rel.add.options));
  }
  if (rel.show) lines.push(`  ${head} show ${owner}${rel.item && rel.showItem !== false ? ` [${item}]` : ''}`);
  if (rel.modify) {
    lines.push(`  ${head} modify ${owner} ${item} [--options]`);
    lines.push(...optionLines(rel.modify.options));
  }
  if (rel.del) {
    if (rel.del.target === 'path') lines.push(`  ${head} del ${owner} ${item}…`);
    else {
      lines.push(`  ${head} del ${owner} [--options naming the row]`);
      lines.push(...optionLines(rel.del.options));
    }
  }
  return lines;
}

function resourceHelp(r: ResourceSpec): string {
  const id = r.prefix.toUpperCase();
  const lines = [
    `vnctl ${r.name} (also: ${r.singular}; uuids ${r.prefix}-…): ${r.help}`,
    '',
    `  vnctl ${r.name} add [--options]`,
    ...optionLines(r.add),
    `  vnctl ${r.name} show [${id}…]        no uuid lists:`,
    ...optionLines([...LIST_OPTIONS, ...r.filters.map((o) => ({ ...o, help: `only items whose ${o.name} is VALUE` }))]),
    `  vnctl ${r.name} modify ${id} [--options]`,
    ...optionLines(r.modify),
    `  vnctl ${r.name} del ${id}…`,
  ];
  for (const a of r.actions) {
    lines.push(`  vnctl ${r.name} ${a.name} ${id} [--options]   ${a.help}`);
    lines.push(...optionLines(a.options));
  }
  if (r.relations.length > 0) {
    lines.push('', 'Relations:');
    for (const rel of r.relations) {
      lines.push(`  ${rel.name}: ${rel.help}`);
      lines.push(...relationUsage(r, rel));
    }
  }
  lines.push('', ...GLOBAL_HELP, '');
  return lines.join('\n');
}

function traceHelp(): string {
  return [
    "vnctl trace IF --dst ADDR [--options]: the way a packet from interface IF (its uuid, or the VM's MAC or",
    'address) takes, host by host, as each',
    "host's switch forwards it (ofproto/trace, asked by that host's agent): the objects it passes (networks,",
    'route links, tunnels, interfaces) and where it ends: delivered, answered, out of an uplink, or dropped —',
    'naming the security groups when they drop it, and saying so when IF is not bound anywhere.',
    '',
    ...optionLines(TRACE_OPTIONS),
    '',
    ...GLOBAL_HELP,
    '',
  ].join('\n');
}

function relationHelp(r: ResourceSpec, rel: RelationSpec): string {
  return [`vnctl ${r.name} ${rel.name}: ${rel.help}`, '', ...relationUsage(r, rel), '', ...GLOBAL_HELP, ''].join('\n');
}

/** The help text for a topic (top level, a resource, or one of its relations). */
export function helpText(topic: HelpTopic, table: readonly ResourceSpec[] = RESOURCES): string {
  if (topic.trace) return traceHelp();
  if (topic.resource && topic.relation) return relationHelp(topic.resource, topic.relation);
  if (topic.resource) return resourceHelp(topic.resource);
  return topLevel(table);
}
