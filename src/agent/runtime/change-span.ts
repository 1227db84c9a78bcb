// The trace of one reconciliation pass, stage by stage: the server's commit of the feed changes it applies, their
// delivery, the model applied, flows computed, flow-mods written and the switch's reply (issue 18, item 1).
// Kept cheap: a few performance.now() calls per change and per pass, one object per pass, nothing per flow.

/** How long each stage of a pass took, in ms; the stages follow each other, so they add up to the whole. */
export interface ChangeStages {
  /** The server's commit of the batch's first change → its arrival here (absent: no commit time on it). */
  deliver_ms?: number;
  /** First change received → last change of the batch applied to the model (changes arriving one by one count). */
  apply_ms?: number;
  /** Model applied → the pass started (a pass that was under way finished first). */
  wait_ms?: number;
  /** The flow compiler's update. */
  compute_ms: number;
  /**
   * Flows computed → the meters the flows name installed (each a round trip; none when no flow names a new one).
   * The bindings handed to the reporter, the delta chosen and a flow dump after a reconnect count here too.
   */
  meters_ms: number;
  /** Meters in → every flow-mod written to the switch's socket (the bundle's opening is a round trip). */
  send_ms: number;
  /** Flow-mods written → the switch's reply (barrier, then the bundle's commit): the flows are in. */
  barrier_ms: number;
}

/** The structured log line of one pass (`span: 'change'`), also what the metrics observe. */
export interface ChangeSpan {
  span: 'change';
  /** The newest and the oldest feed revision the pass applied (absent: no feed change, e.g. a port event). */
  revision?: number;
  first_revision?: number;
  /** Feed changes applied in the pass (0: the pass was for something else: a port, the switch). */
  changes: number;
  /** When the server committed the batch's first change (ms since the epoch), when the feed said. */
  committed_at?: number;
  stages: ChangeStages;
  flow_mods: number;
  /** The switch's table was diffed whole (after a connect or a failure) instead of sending the compiler's delta. */
  full: boolean;
}

const ms = (x: number) => Math.round(x * 1000) / 1000;

/** One pass under way: the batch it took and the times its stages ended (performance.now()). */
export class PassTrace {
  private computed = 0;
  private metered = 0;
  private written = 0;

  constructor(
    private readonly batch: {
      changes: number;
      firstRevision: number;
      lastRevision: number;
      committedAt: number | undefined;
      deliverMs: number | undefined;
      receivedAt: number;
      appliedAt: number;
    },
    private readonly startedAt: number,
  ) {}

  /** The compiler returned. */
  computeDone(): void {
    this.computed = performance.now();
  }

  /** The meters the flows need are on the switch (or none were needed). */
  metersDone(): void {
    this.metered = performance.now();
  }

  /** The last flow-mod left for the switch. */
  readonly writeDone = (): void => {
    this.written = performance.now();
  };

  /** The switch has answered (or nothing had to be sent): the span of the whole pass. */
  finish(flowMods: number, full: boolean): ChangeSpan {
    const done = performance.now();
    const computed = this.computed || done;
    const metered = this.metered || computed;
    const written = this.written || done;
    const b = this.batch;
    const stages: ChangeStages = {
      compute_ms: ms(computed - this.startedAt),
      meters_ms: ms(metered - computed),
      send_ms: ms(written - metered),
      barrier_ms: ms(done - written),
    };
    const span: ChangeSpan = { span: 'change', changes: b.changes, stages, flow_mods: flowMods, full };
    if (b.changes > 0) {
      span.revision = b.lastRevision;
      span.first_revision = b.firstRevision;
      stages.apply_ms = ms(b.appliedAt - b.receivedAt);
      stages.wait_ms = ms(Math.max(0, this.startedAt - b.appliedAt));
      if (b.committedAt !== undefined) {
        span.committed_at = b.committedAt;
        // The server's clock and ours: on one machine the same; across hosts as good as their NTP.
        stages.deliver_ms = b.deliverMs;
      }
    }
    return span;
  }
}

/** Gathers the feed changes that will go into the next pass; `start()` hands them to that pass. */
export class ChangeSpans {
  private changes = 0;
  private firstRevision = 0;
  private lastRevision = 0;
  private committedAt: number | undefined = undefined;
  private deliverMs: number | undefined = undefined;
  private receivedAt = 0;
  private appliedAt = 0;

  /** A feed change arrived (before it is applied to the model). */
  received(revision: number, committedAt: number | undefined): void {
    if (this.changes === 0) {
      this.receivedAt = performance.now();
      this.firstRevision = revision;
    }
    if (this.committedAt === undefined && typeof committedAt === 'number') {
      this.committedAt = committedAt;
      this.deliverMs = Math.max(0, Date.now() - committedAt);
    }
    this.changes++;
    this.lastRevision = revision;
  }

  /** The change just received is in the model. */
  applied(): void {
    this.appliedAt = performance.now();
  }

  /** A snapshot replaced the model: the changes gathered so far are no longer what the next pass applies. */
  reset(): void {
    this.changes = 0;
    this.committedAt = undefined;
    this.deliverMs = undefined;
  }

  /** A pass starts now, with the changes gathered so far. */
  start(): PassTrace {
    const trace = new PassTrace(
      {
        changes: this.changes,
        firstRevision: this.firstRevision,
        lastRevision: this.lastRevision,
        committedAt: this.committedAt,
        deliverMs: this.deliverMs,
        receivedAt: this.receivedAt,
        appliedAt: this.appliedAt,
      },
      performance.now(),
    );
    this.reset();
    return trace;
  }
}
