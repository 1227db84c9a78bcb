// The agent's start, stage by stage, from the process's own start to its first flows in sync (issue 18, item 3):
// where a restart's time goes — Node and module loading, the OVSDB and OpenFlow handshakes, the feed's snapshot,
// the flow dump, the compute, the diff. One line, `in sync since process start`, logged once.

/** The milestones, in ms since the process started (performance.now()); each the first time it happened. */
export type StartupMark =
  /** The agent's code is loaded and runAgent() runs (Node's start-up and every import before it). */
  | 'loaded'
  /** The OpenFlow listener listens, the credentials are read: Agent.start(). */
  | 'started'
  /** The OVSDB session is up (socket connected; the schema and the monitor's initial rows still to come). */
  | 'ovsdb_connected'
  /** OVSDB connected and its monitor cache loaded. */
  | 'ovsdb_ready'
  /** Controller, fail mode and tunnel ports set on the bridge (an OVSDB transaction), dpid known. */
  | 'bridge_taken_over'
  /** The feed's snapshot is loaded into the model. */
  | 'snapshot'
  /** The switch connected (OpenFlow handshake done, the peer verified). */
  | 'switch_connected'
  /** The first pass with the datapath identified computed the whole flow set. */
  | 'computed'
  /** The desired flows keyed (while the dump is in flight, when it is). */
  | 'desired_keyed'
  /** The switch's flow table read (flow stats). */
  | 'dumped'
  /** The dump's flows keyed (identity and body). */
  | 'dump_keyed'
  /** Switch table vs desired flows diffed. */
  | 'diffed'
  /** The diff's flow-mods written to the switch (absent when there were none). */
  | 'flow_mods_written'
  /** The diff's flow-mods acknowledged (bundle commit and barrier): in sync. */
  | 'in_sync';

const r1 = (x: number) => Math.round(x * 10) / 10;

/** The process's CPU time so far (user + system, every thread), in ms. */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export class StartupSpan {
  private readonly marks: Partial<Record<StartupMark, number>> = {};
  /**
   * The process's CPU time at each milestone: on a machine shared with other work, the wall time between two
   * milestones is mostly the wait for a core (at load 20 on 2 cores, ~10× the work); the CPU time is the work.
   */
  private readonly cpu: Partial<Record<StartupMark, number>> = {};
  private done = false;

  /** Notes a milestone the first time it happens (later ones — a reconnect — are not the start). */
  mark(m: StartupMark): void {
    if (this.done || this.marks[m] !== undefined) return;
    this.marks[m] = performance.now();
    this.cpu[m] = cpuMs();
  }

  /**
   * At the first flows in sync: the line's fields once (then null). `since_process_start_ms` holds every
   * milestone, `cpu_ms` the process's CPU time at each; `process_started_at` (ms since the epoch) lets a bench put
   * it on its own clock.
   */
  finish(extra: Record<string, number>): Record<string, unknown> | null {
    if (this.done) return null;
    this.mark('in_sync');
    this.done = true;
    const since: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.marks)) since[k] = r1(v);
    const cpu: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.cpu)) cpu[k] = r1(v);
    return {
      span: 'startup',
      process_started_at: Math.round(performance.timeOrigin),
      since_process_start_ms: since,
      cpu_ms: cpu,
      ...extra,
    };
  }
}
