// When no datapath in the model has this bridge's dpid: with --register the agent creates it (one registration in
// flight, none while the feed has yet to echo the last one); without, it says once per dpid what to run.
import { formatDpid } from '../../model/params.js';
import type { Logger } from '../../util/log.js';
import type { ApiLike } from './deps.js';
import { errText } from './errors.js';
import type { AgentConfig } from './options.js';

export class DatapathRegistration {
  private registering = false;
  private registeredAt = 0;
  private waitingLogged = '';

  /** `retry(ms)` asks for another reconciliation pass after `ms` (the feed should show the datapath by then). */
  constructor(
    private readonly cfg: AgentConfig,
    private readonly api: ApiLike,
    private readonly log: Logger,
    private readonly retry: (ms: number) => void,
  ) {}

  /** Creates the datapath of `dpid` through the API (--register). */
  async register(dpid: bigint): Promise<void> {
    // One registration in flight, and none while the feed has yet to echo the last one.
    if (this.registering || Date.now() - this.registeredAt < 3000) return;
    this.registering = true;
    const uuid = `dp-${dpid.toString(16).padStart(16, '0')}`;
    const body = {
      uuid,
      display_name: `${this.cfg.nodeId}/${this.cfg.bridge}`.slice(0, 255),
      dpid: formatDpid(dpid),
      node_id: this.cfg.nodeId,
      ...(this.cfg.tunnelIp ? { ipv4_address: this.cfg.tunnelIp } : {}),
    };
    this.log.info({ datapath: uuid, dpid: formatDpid(dpid) }, 'registering this datapath (--register)');
    try {
      await this.api.createDatapath(body);
      this.registeredAt = Date.now();
      this.retry(3000);
    } catch (err) {
      // A concurrent registration or a datapath created meanwhile: the feed will show it.
      this.log.warn({ err: errText(err) }, 'datapath registration failed; will retry unless it appears');
      this.retry(2000);
    } finally {
      this.registering = false;
    }
  }

  /** Says (once per dpid) that the agent waits for a datapath of `dpid`, and how to make one. */
  noteWaiting(dpid: bigint): void {
    const text = formatDpid(dpid);
    if (this.waitingLogged === text) return;
    this.waitingLogged = text;
    this.log.warn(
      { dpid: text },
      `no datapath with dpid ${text} is registered; waiting (vnctl datapaths add --dpid ${text} --node-id ${this.cfg.nodeId} …, or run with --register)`,
    );
  }
}
