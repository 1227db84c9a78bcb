// Sends the agent's reports (datapath status, interface bindings, where floating IPs are active) to the server: only what differs
// from what the server already shows, one request per object at a time, retried with backoff.
import type { DatapathStatusReport, InterfaceBindingReport, TranslationStatusReport } from '../../model/types.js';
import { Backoff } from '../../util/backoff.js';
import type { Logger } from '../../util/log.js';

// The report bodies are the API contract's own types.
export type { DatapathStatusReport };
export type BindingReport = InterfaceBindingReport;

/** The report calls of the contract (ApiClient provides them). */
export interface ReportSink {
  reportDatapathStatus(uuid: string, body: DatapathStatusReport): Promise<unknown>;
  reportInterfaceBinding(uuid: string, body: BindingReport): Promise<unknown>;
  reportTranslationStatus(uuid: string, body: TranslationStatusReport): Promise<unknown>;
}

interface Pending {
  sig: string;
  send: () => Promise<unknown>;
}

/**
 * Keyed report queue. The caller states what it wants the server to show for an object whenever
 * its view of the server differs from that; the queue sends it unless the same content was
 * already sent and no newer server state for that object has been seen since (its echo is on
 * the way). The echo itself is no work (a status-only change, see applyChange) and ends the
 * exchange once the model shows it. The dedupe is still needed because the model lags the server
 * by the feed's delay: until the echo arrives every reconciliation (any other change, a port
 * event) still sees the old state and asks again, and each would be another PUT and echo.
 */
export class Reporter {
  private readonly pending = new Map<string, Pending>();
  private readonly inflight = new Set<string>();
  private readonly sent = new Map<string, string>();
  /** Retry delays per object with failed sends: 200 ms doubling to 5 s; dropped on success. */
  private readonly retries = new Map<string, Backoff>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;
  /** Count of successful and failed sends, for status and tests. */
  readonly stats = { sent: 0, failed: 0 };

  constructor(
    private readonly sink: ReportSink,
    private readonly log: Logger,
  ) {}

  datapathStatus(uuid: string, body: DatapathStatusReport): void {
    this.want(`dp:${uuid}`, JSON.stringify(body), () => this.sink.reportDatapathStatus(uuid, body));
  }

  binding(ifUuid: string, body: BindingReport): void {
    this.want(`if:${ifUuid}`, JSON.stringify(body), () => this.sink.reportInterfaceBinding(ifUuid, body));
  }

  translationStatus(uuid: string, body: TranslationStatusReport): void {
    this.want(`tr:${uuid}`, JSON.stringify(body), () => this.sink.reportTranslationStatus(uuid, body));
  }

  /** The server's representation of this object changed: a repeat of an earlier report is needed again. */
  invalidate(kind: 'dp' | 'if' | 'tr', uuid: string): void {
    this.sent.delete(`${kind}:${uuid}`);
  }

  /** Resolves when nothing is queued or in flight (tests, clean shutdown). */
  async idle(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size > 0 || this.inflight.size > 0) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.pending.clear();
  }

  private want(key: string, sig: string, send: () => Promise<unknown>): void {
    if (this.closed) return;
    if (this.sent.get(key) === sig && !this.pending.has(key)) return;
    this.pending.set(key, { sig, send });
    this.pump(key);
  }

  private pump(key: string): void {
    if (this.closed || this.inflight.has(key) || this.timers.has(key)) return;
    const job = this.pending.get(key);
    if (!job) return;
    this.pending.delete(key);
    if (this.sent.get(key) === job.sig) return;
    this.inflight.add(key);
    job.send().then(
      () => {
        this.inflight.delete(key);
        this.retries.delete(key);
        this.sent.set(key, job.sig);
        this.stats.sent++;
        this.log.debug({ key, report: JSON.parse(job.sig) }, 'report sent');
        this.pump(key);
      },
      (err: unknown) => {
        this.inflight.delete(key);
        this.stats.failed++;
        // Keep the newest wish if one arrived meanwhile; otherwise retry this one.
        if (!this.pending.has(key)) this.pending.set(key, job);
        let retry = this.retries.get(key);
        if (!retry) this.retries.set(key, (retry = new Backoff({ initialMs: 200, maxMs: 5000 })));
        const delay = retry.next();
        this.log.warn({ key, err: String(err), retryInMs: delay }, 'report failed; will retry');
        if (this.closed) return;
        this.timers.set(
          key,
          setTimeout(() => {
            this.timers.delete(key);
            this.pump(key);
          }, delay).unref(),
        );
      },
    );
  }
}
