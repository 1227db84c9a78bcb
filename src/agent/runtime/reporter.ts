// Sends the agent's reports (datapath status, interface bindings, where floating IPs are active) to the server: only what
// differs from what the server already shows, the newest wish per object, one request at a time, backing off on failure.
import { VnetApiError } from '../../client/index.js';
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

/** The report key's kind for each resource the agent reports on. */
const KIND_OF: Readonly<Record<string, ReportKind | undefined>> = {
  datapaths: 'dp',
  interfaces: 'if',
  translations: 'tr',
};
type ReportKind = 'dp' | 'if' | 'tr';

/** Delays after failed sends: exponential, capped, jittered so a thousand agents refused at once do not return at once. */
export const REPORT_BACKOFF = { initialMs: 250, maxMs: 15_000, jitter: 0.5 } as const;

/**
 * Keyed report queue. The caller states what it wants the server to show for an object whenever
 * its view of the server differs from that; the queue sends it unless the same content was
 * already sent and no newer server state for that object has been seen since (its echo is on
 * the way). The echo itself is no work (a status-only change, see applyChange) and ends the
 * exchange once the model shows it. The dedupe is still needed because the model lags the server
 * by the feed's delay: until the echo arrives every reconciliation (any other change, a port
 * event) still sees the old state and asks again, and each would be another PUT and echo.
 *
 * One request is in flight per agent, and a failure holds every report back for the next delay
 * (REPORT_BACKOFF, reset by a success): a server that is overloaded or away is asked once, not once
 * per object and again at once. A failed report is kept (unless a newer wish for its object replaced
 * it) and sent after the delay: nothing the caller asked for is dropped, only coalesced — or forgotten with its
 * object when the feed deletes it.
 */
export class Reporter {
  /** The newest wish per object not yet sent, in the order first asked. */
  private readonly pending = new Map<string, Pending>();
  private inflight: string | null = null;
  /** The object of the report in flight was deleted meanwhile: whatever the answer, it is neither retried nor recorded. */
  private inflightGone = false;
  private readonly sent = new Map<string, string>();
  private readonly backoff: Backoff;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Count of successful and failed sends, for status and tests. */
  readonly stats = { sent: 0, failed: 0 };

  constructor(
    private readonly sink: ReportSink,
    private readonly log: Logger,
    backoff: { initialMs: number; maxMs: number; jitter: number } = REPORT_BACKOFF,
  ) {
    this.backoff = new Backoff(backoff);
  }

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
  invalidate(kind: ReportKind, uuid: string): void {
    this.sent.delete(`${kind}:${uuid}`);
  }

  /** The object is deleted: a report of it not yet sent is not sent at all (the server would answer 404). */
  forget(kind: ReportKind, uuid: string): void {
    const key = `${kind}:${uuid}`;
    this.pending.delete(key);
    this.sent.delete(key);
    if (this.inflight === key) this.inflightGone = true;
  }

  /** A feed change of an object: its reports are invalidated, or forgotten when it was deleted. */
  changed(resource: string, uuid: string, op: 'upsert' | 'delete'): void {
    const kind = KIND_OF[resource];
    if (!kind) return;
    if (op === 'delete') this.forget(kind, uuid);
    else this.invalidate(kind, uuid);
  }

  /** Resolves when nothing is queued or in flight (tests, clean shutdown). */
  async idle(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size > 0 || this.inflight !== null) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending.clear();
  }

  private want(key: string, sig: string, send: () => Promise<unknown>): void {
    if (this.closed) return;
    if (this.sent.get(key) === sig && !this.pending.has(key) && this.inflight !== key) return;
    this.pending.set(key, { sig, send });
    this.pump();
  }

  /** Sends the oldest pending wish, unless one is in flight or the queue is backing off. */
  private pump(): void {
    if (this.closed || this.inflight !== null || this.timer) return;
    for (const [key, job] of this.pending) {
      this.pending.delete(key);
      if (this.sent.get(key) === job.sig) continue;
      this.send(key, job);
      return;
    }
  }

  private send(key: string, job: Pending): void {
    this.inflight = key;
    this.inflightGone = false;
    job.send().then(
      () => {
        this.inflight = null;
        this.backoff.reset();
        if (!this.inflightGone) this.sent.set(key, job.sig);
        this.stats.sent++;
        this.log.debug({ key, report: JSON.parse(job.sig) }, 'report sent');
        this.pump();
      },
      (err: unknown) => {
        this.inflight = null;
        this.stats.failed++;
        // Refused for good (the object was deleted meanwhile: 404; or a report the server will never take): resending
        // cannot help, and holding it would hold every other report behind its backoff. Dropped, said once.
        if (isRefusedForGood(err)) {
          this.log.warn({ key, err: String(err) }, 'report refused by the server; dropped');
          this.pump();
          return;
        }
        // Keep the newest wish if one arrived meanwhile; otherwise this one goes again (first, as it was), unless
        // its object is gone.
        if (!this.pending.has(key) && !this.inflightGone) {
          const rest = [...this.pending];
          this.pending.clear();
          this.pending.set(key, job);
          for (const [k, j] of rest) this.pending.set(k, j);
        }
        if (this.closed) return;
        const delay = this.backoff.next();
        this.log.warn({ key, err: String(err), retryInMs: delay }, 'report failed; will retry');
        this.timer = setTimeout(() => {
          this.timer = null;
          this.pump();
        }, delay).unref();
      },
    );
  }
}

/** A 4xx answer other than a timeout or a rate limit: the same report will be refused again. */
function isRefusedForGood(err: unknown): boolean {
  return (
    err instanceof VnetApiError &&
    err.kind === 'status' &&
    err.status >= 400 &&
    err.status < 500 &&
    err.status !== 408 &&
    err.status !== 429
  );
}
