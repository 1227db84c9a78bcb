// Prometheus metrics declared as data: each program (server, agent) lists its metrics once — name, type, help,
// labels, buckets — and from that list come the prom-client objects, in a registry of the program's own (never
// prom-client's global one, so several servers or agents in one test process do not collide), and the tables of
// docs/metrics.md (`metricsTableMarkdown`; test/util/metrics.test.ts fails when they drift).
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec {
  /** `vnet_…`, base units (`_seconds`, `_bytes`), `_total` for counters: test/util/metrics.test.ts checks. */
  readonly name: string;
  readonly type: MetricType;
  /** One line: what is counted or measured (the HELP line and docs/metrics.md). */
  readonly help: string;
  readonly labels?: readonly string[];
  /** Histograms: bucket upper bounds in the metric's unit. */
  readonly buckets?: readonly number[];
}

/** Latency buckets in seconds, 0.5 ms to 10 s (prom-client's default starts at 5 ms: too coarse for SQLite). */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type MetricOf<S extends MetricSpec> = S['type'] extends 'counter'
  ? Counter
  : S['type'] extends 'gauge'
    ? Gauge
    : Histogram;

/** The prom-client object of each declared metric, by name. */
export type MetricSet<S extends readonly MetricSpec[]> = { readonly [K in S[number] as K['name']]: MetricOf<K> };

/** Metrics whose value is read when scraped (from state kept elsewhere) instead of being updated as things happen. */
export type Collectors<S extends readonly MetricSpec[]> = {
  readonly [K in S[number] as K['name']]?: (metric: MetricOf<K>) => void | Promise<void>;
};

export interface Metrics<S extends readonly MetricSpec[]> {
  /** What a scrape reads: the program's own registry (with `defaults`, merged with the process metrics). */
  readonly registry: Registry;
  readonly m: MetricSet<S>;
  /** The scrape: Prometheus text format. */
  text(): Promise<string>;
  readonly contentType: string;
}

let processMetrics: Registry | null = null;

/**
 * prom-client's process metrics (CPU, memory, event loop lag, GC, handles), registered once per process: they
 * describe the process, not one server in it, and their GC observer lives as long as the process — holding one
 * per server would keep every server a test process ever built alive.
 */
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

/**
 * A registry of its own holding `specs` (with `defaults`, scraped together with prom-client's process metrics),
 * each metric in `collect` filled when scraped.
 */
export function createMetrics<const S extends readonly MetricSpec[]>(
  specs: S,
  opts: { defaults?: boolean; collect?: NoInfer<Collectors<S>> } = {},
): Metrics<S> {
  const own = new Registry();
  const m: Record<string, Counter | Gauge | Histogram> = {};
  for (const spec of specs) {
    const collect = (opts.collect as Record<string, ((metric: never) => void | Promise<void>) | undefined>)?.[
      spec.name
    ];
    const config = {
      name: spec.name,
      help: spec.help,
      labelNames: [...(spec.labels ?? [])],
      registers: [own],
      ...(collect
        ? {
            collect(this: Counter | Gauge | Histogram) {
              return collect(this as never);
            },
          }
        : {}),
    };
    m[spec.name] =
      spec.type === 'counter'
        ? new Counter(config)
        : spec.type === 'gauge'
          ? new Gauge(config)
          : new Histogram({ ...config, buckets: [...(spec.buckets ?? LATENCY_BUCKETS)] });
  }
  const registry = opts.defaults ? Registry.merge([processRegistry(), own]) : own;
  return {
    registry,
    m: m as unknown as MetricSet<S>,
    text: () => registry.metrics(),
    contentType: registry.contentType,
  };
}

/**
 * Sets a counter or gauge to counts kept elsewhere (at scrape time): a number, or per value of the metric's one
 * label. A counter mirrored so must only be given counts that never go down.
 */
export function mirror(
  metric: Counter | Gauge,
  value: number | Readonly<Record<string, number>>,
  label?: string,
): void {
  metric.reset();
  const set = (v: number, labels?: Record<string, string>) => {
    if (metric instanceof Gauge) labels ? metric.set(labels, v) : metric.set(v);
    else labels ? metric.inc(labels, v) : metric.inc(v);
  };
  if (typeof value === 'number') set(value);
  else for (const [k, v] of Object.entries(value)) set(v, { [label!]: k });
}

const escapeCell = (s: string) => s.replace(/\|/g, '\\|');

/** docs/metrics.md's table of `specs` (between its markers). */
export function metricsTableMarkdown(specs: readonly MetricSpec[]): string {
  const rows = specs.map((s) => {
    const labels = s.labels?.length ? s.labels.map((l) => `\`${l}\``).join(', ') : '—';
    return `| \`${s.name}\` | ${s.type} | ${labels} | ${escapeCell(s.help)} |`;
  });
  return ['| metric | type | labels | what |', '|---|---|---|---|', ...rows].join('\n');
}

/** `text` with the part between `<!-- NAME:begin -->` and `<!-- NAME:end -->` replaced by `body`. */
export function withGenerated(text: string, name: string, body: string): string {
  const re = new RegExp(`(<!-- ${name}:begin -->\\n)[\\s\\S]*?(<!-- ${name}:end -->)`);
  if (!re.test(text)) throw new Error(`markers <!-- ${name}:begin --> … <!-- ${name}:end --> missing`);
  return text.replace(re, (_, a: string, b: string) => `${a}${body}\n${b}`);
}
