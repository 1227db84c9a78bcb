// The host's one metadata endpoint: an OVS internal port (created through OVSDB) moved into a network namespace the
// agent owns, holding 169.254.169.254/16, with the agent's HTTP listener inside. The pipeline steers every local
// VM's request there from a source address naming its port (pipeline/metadata.ts), so one namespace serves every
// network, overlapping addresses included, and the host's own network is never touched.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Interface } from '../../model/types.js';
import { Backoff, sleep } from '../../util/backoff.js';
import type { Logger } from '../../util/log.js';
import { type MetadataAnswer, metadataAnswer, NOT_FOUND } from '../metadata/content.js';
import type { AgentMessage, ListenerMessage } from '../metadata/listener.js';
import { METADATA_IP, METADATA_PORT_MAC, METADATA_PORT_NAME, ofportOfMetadataSource } from '../pipeline/metadata.js';
import type { BridgePort } from './deps.js';
import { errText } from './errors.js';

const run = promisify(execFile);

/** What the endpoint needs of OVSDB (OvsdbBridgeControl has it). */
export interface MetadataPortControl {
  waitForBridge(name: string): Promise<void>;
  addInternalPort(opts: { bridge: string; name: string }): Promise<void>;
  replaceInternalPort(opts: { bridge: string; name: string; ofport: number | null }): Promise<void>;
  waitForOfport(bridge: string, name: string): Promise<number>;
  interfaces(bridge: string): BridgePort[];
  onInterfacesChanged(listener: () => void): void;
}

/** The interface a local port carries, as the agent's model says now. */
export type MetadataLookup = (ofport: number) => { iface: Interface; networkUuid: string | null } | null;

/** Answers one DNS query that came over TCP from a VM port in a network (DnsHandler.handleTcp). */
export type DnsTcpAnswer = (query: Uint8Array, networkUuid: string) => Promise<{ reply?: Uint8Array; event: string }>;

/** The agent's view of the endpoint. */
export interface MetadataService {
  start(): void;
  /** Stops the listener; the port and the namespace stay for the next agent (see stop() below). */
  stop(): Promise<void>;
}

/** `ip` runs: Node has no netlink client, and nothing here can be done through OVSDB (see docs/metadata.md). */
async function ip(args: string[]): Promise<void> {
  await run('ip', args, { timeout: 10_000 });
}

/** Where `ip netns` keeps its names (each a mount of a namespace). */
const NETNS_DIR = '/var/run/netns';

/** One device as `ip -json addr show` gives it (the fields read here). */
interface IpLink {
  ifname: string;
  flags?: string[];
  address?: string;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

/** Whether `netns` names a live namespace: its name is a mount in our mount namespace, not just a file. */
function namespaceMounted(netns: string): boolean {
  try {
    const path = `${realpathSync(NETNS_DIR)}/${netns}`;
    return readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .some((line) => line.split(' ')[4] === path);
  } catch {
    return false;
  }
}

/**
 * Whether the endpoint's device is in the agent's own network namespace (where ovs-vswitchd makes it): one stat,
 * cheap enough for every OVSDB interface event. /proc/sys/net is the reader's network namespace; /sys is the one
 * it was mounted for, maybe another (an agent started with `nsenter --net`).
 */
function deviceHere(): boolean {
  return existsSync(`/proc/sys/net/ipv4/conf/${METADATA_PORT_NAME}`);
}

export class MetadataEndpoint implements MetadataService {
  private child: ChildProcess | null = null;
  private stopped = false;
  private ensuring: Promise<void> | null = null;
  private again = false;
  private readonly backoff = new Backoff({ initialMs: 500, maxMs: 10_000 });
  /** The namespace's loopback is up (as last read). */
  private loUp = false;
  /** Requests answered, by status (for the log at stop and for the status of the agent). */
  readonly counts = { answered: 0, unknownSource: 0, dnsTcp: 0 };

  constructor(
    private readonly cfg: { bridge: string; netns: string },
    private readonly ovsdb: MetadataPortControl,
    private readonly lookup: MetadataLookup,
    private readonly log: Logger,
    /** DNS over TCP, served by the same listener on port 53 (absent: the listener does not listen there). */
    private readonly dnsTcp?: DnsTcpAnswer,
  ) {}

  start(): void {
    // ovs-vswitchd re-creates an internal port in its own namespace when it restarts: move it back then.
    this.ovsdb.onInterfacesChanged(() => {
      if (!this.stopped && this.needsSetup()) this.ensure();
    });
    this.ensure();
  }

  /**
   * Stops answering; the port and the namespace stay, as the flows do (a stopped agent leaves the dataplane as
   * it is: a restarted one finds the same port, with the same ofport its flows name, and reuses both).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.child?.kill('SIGTERM');
    this.child = null;
    await this.ensuring?.catch(() => undefined);
    this.log.info({ netns: this.cfg.netns, ...this.counts }, 'metadata endpoint stopped (its port and namespace stay)');
  }

  /** The port is missing from the bridge, or its device sits in the agent's namespace instead of ours. */
  private needsSetup(): boolean {
    if (!this.ovsdb.interfaces(this.cfg.bridge).some((p) => p.name === METADATA_PORT_NAME)) return true;
    return deviceHere();
  }

  private ensure(): void {
    if (this.ensuring) {
      this.again = true;
      return;
    }
    this.ensuring = (async () => {
      do {
        this.again = false;
        try {
          await this.setUp();
          this.backoff.reset();
        } catch (err) {
          if (this.stopped) return;
          const wait = this.backoff.next();
          this.log.error({ err: errText(err), retryMs: wait }, 'metadata endpoint not ready; retrying');
          await sleep(wait);
          this.again = true;
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.ensuring = null;
    });
  }

  private async setUp(): Promise<void> {
    const { bridge, netns } = this.cfg;
    const name = METADATA_PORT_NAME;
    await this.ovsdb.waitForBridge(bridge);
    await this.ensureNamespace();
    let dev = await this.deviceInNamespace();
    const port = this.ovsdb.interfaces(bridge).find((p) => p.name === name);
    if (!port) await this.ovsdb.addInternalPort({ bridge, name });
    else if (!dev && !deviceHere()) {
      // The port is there and its device nowhere: it went with its namespace (or was deleted). ovs-vswitchd keeps
      // reading the dead tap (EBADFD: POLLERR at full CPU) and never makes a new one; only a port it has seen go
      // and come back gets a new device. Its ofport stays, and so do the flows naming it.
      this.log.warn({ netns, ofport: port.ofport }, `the ${name} device is gone; adding its port again`);
      await this.ovsdb.replaceInternalPort({ bridge, name, ofport: port.ofport });
    }
    // ovs-vswitchd numbers the port once it has made the device, in its own namespace (the agent's): move it.
    if (!port || !dev) await this.ovsdb.waitForOfport(bridge, name);
    if (deviceHere()) {
      // Just made (a new port, or ovs-vswitchd started again): the one in use. One left in our namespace by an
      // ovs-vswitchd that was killed is not.
      if (dev) await ip(['-n', netns, 'link', 'delete', 'dev', name]);
      await ip(['link', 'set', 'dev', name, 'netns', netns]);
      dev = await this.deviceInNamespace();
    } else if (!dev) throw new Error(`ovs-vswitchd made ${name}, but not in the agent's network namespace`);
    // What is already right is left alone: a restarted agent finds all of it as its predecessor left it.
    if (dev?.address?.toLowerCase() !== METADATA_PORT_MAC)
      await ip(['-n', netns, 'link', 'set', 'dev', name, 'address', METADATA_PORT_MAC]);
    if (!dev?.addr_info?.some((a) => a.family === 'inet' && a.local === METADATA_IP && a.prefixlen === 16))
      await ip(['-n', netns, 'addr', 'replace', `${METADATA_IP}/16`, 'dev', name]);
    if (!dev?.flags?.includes('UP')) await ip(['-n', netns, 'link', 'set', 'dev', name, 'up']);
    if (!this.loUp) await ip(['-n', netns, 'link', 'set', 'dev', 'lo', 'up']);
    if (!this.child) await this.startListener();
  }

  /**
   * The agent's namespace, made when missing. A name without its mount is one whose namespace ended: `ip netns add`
   * pins it in the mount namespace of whoever ran it, so an agent started in a private one (`ip netns exec`,
   * a sandboxed service) took it, and the port's device in it, along when it exited. Made again then.
   */
  private async ensureNamespace(): Promise<void> {
    const { netns } = this.cfg;
    if (namespaceMounted(netns)) return;
    if (existsSync(`${NETNS_DIR}/${netns}`)) {
      this.log.warn(
        { netns },
        'the metadata namespace did not outlive the previous agent (run in a private mount namespace?); making it again',
      );
      await ip(['netns', 'delete', netns]);
    }
    await ip(['netns', 'add', netns]);
  }

  /** The endpoint's device in our namespace, as `ip -json addr` shows it (undefined: not there). */
  private async deviceInNamespace(): Promise<IpLink | undefined> {
    const { stdout } = await run('ip', ['-n', this.cfg.netns, '-json', 'addr', 'show'], { timeout: 10_000 });
    const links = JSON.parse(stdout) as IpLink[];
    this.loUp = links.some((l) => l.ifname === 'lo' && l.flags?.includes('UP'));
    return links.find((l) => l.ifname === METADATA_PORT_NAME);
  }

  /** The listener process, started inside the namespace; restarted (with backoff) when it exits. */
  private startListener(): Promise<void> {
    const here = fileURLToPath(import.meta.url);
    const script = here.replace(/runtime\/metadata-endpoint\.(ts|js)$/, 'metadata/listener.$1');
    const child = spawn('ip', ['netns', 'exec', this.cfg.netns, process.execPath, ...process.execArgv, script], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, VNET_METADATA_DNS: this.dnsTcp ? '1' : '0' },
    });
    this.child = child;
    return new Promise((resolve, reject) => {
      child.on('message', (m: ListenerMessage) => {
        if (m.kind === 'listening') {
          this.log.info({ netns: this.cfg.netns, address: `${METADATA_IP}:80` }, 'metadata endpoint listening');
          resolve();
        } else if (m.kind === 'failed') reject(new Error(`metadata listener: ${m.error}`));
        else if (m.kind === 'request') this.answer(child, m);
        else if (m.kind === 'dns') void this.answerDns(child, m);
      });
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        if (this.child === child) this.child = null;
        reject(new Error(`metadata listener exited (${signal ?? code})`));
        if (!this.stopped) {
          this.log.warn({ code, signal }, 'metadata listener exited; starting it again');
          this.ensure();
        }
      });
    });
  }

  /** A DNS query over TCP: the port its source address names decides the network, whose service answers. */
  private async answerDns(child: ChildProcess, m: Extract<ListenerMessage, { kind: 'dns' }>): Promise<void> {
    const ofport = ofportOfMetadataSource(m.remote);
    const found = ofport === null ? null : this.lookup(ofport);
    let reply: string | null = null;
    if (found?.networkUuid && this.dnsTcp) {
      try {
        const r = await this.dnsTcp(Buffer.from(m.query, 'base64'), found.networkUuid);
        if (r.reply) reply = Buffer.from(r.reply).toString('base64');
        this.counts.dnsTcp++;
      } catch (err) {
        this.log.warn({ err: errText(err), interface: found.iface.uuid }, 'DNS over TCP: no answer');
      }
    } else this.counts.unknownSource++;
    if (child.connected) child.send({ kind: 'dnsAnswer', id: m.id, reply } satisfies AgentMessage);
  }

  private answer(child: ChildProcess, m: Extract<ListenerMessage, { kind: 'request' }>): void {
    let answer: MetadataAnswer = NOT_FOUND;
    const ofport = ofportOfMetadataSource(m.remote);
    const found = ofport === null ? null : this.lookup(ofport);
    if (!found) {
      this.counts.unknownSource++;
      this.log.warn({ remote: m.remote, path: m.path }, 'metadata request from no known interface: 404');
    } else if (m.method !== 'GET' && m.method !== 'HEAD') {
      answer = { status: 405, contentType: 'text/plain', body: '405 Method Not Allowed\n' };
    } else {
      answer = metadataAnswer(found.iface, found.networkUuid, m.path);
      this.counts.answered++;
      this.log.debug({ interface: found.iface.uuid, path: m.path, status: answer.status }, 'metadata answered');
    }
    if (child.connected) child.send({ kind: 'answer', id: m.id, answer } satisfies AgentMessage);
  }
}
