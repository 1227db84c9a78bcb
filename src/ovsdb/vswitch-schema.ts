// Typed rows of the Open_vSwitch tables the agent watches, and which columns the cache monitors.
import type { CachedRow } from './cache.js';

type StrMap = Map<string, string>;

export interface OpenVSwitchRow extends CachedRow {
  bridges: string[];
  ovs_version: string | undefined;
  db_version: string | undefined;
  datapath_types: string[];
  iface_types: string[];
  other_config: StrMap;
  external_ids: StrMap;
  next_cfg: number;
  cur_cfg: number;
  /** The SSL row ovs-vswitchd's ssl: connections (controllers, managers) use; undefined: none. */
  ssl: string | undefined;
}

/** The files ovs-vswitchd reads for its SSL connections (paths on its host), as `ovs-vsctl set-ssl` sets them. */
export interface SslRow extends CachedRow {
  private_key: string;
  certificate: string;
  ca_cert: string;
  bootstrap_ca_cert: boolean;
}

export interface BridgeRow extends CachedRow {
  name: string;
  datapath_type: string;
  /** 16 hex digits, filled by ovs-vswitchd (ephemeral). */
  datapath_id: string | undefined;
  ports: string[];
  controller: string[];
  protocols: string[];
  fail_mode: string | undefined;
  other_config: StrMap;
  external_ids: StrMap;
  status: StrMap;
}

export interface PortRow extends CachedRow {
  name: string;
  interfaces: string[];
  tag: number | undefined;
  other_config: StrMap;
  external_ids: StrMap;
}

export interface InterfaceRow extends CachedRow {
  name: string;
  type: string;
  options: StrMap;
  /** -1 when vswitchd could not add the interface; absent until it tried. */
  ofport: number | undefined;
  ofport_request: number | undefined;
  mac_in_use: string | undefined;
  mac: string | undefined;
  external_ids: StrMap;
  error: string | undefined;
  admin_state: string | undefined;
  link_state: string | undefined;
  mtu: number | undefined;
}

export interface ControllerRow extends CachedRow {
  target: string;
  max_backoff: number | undefined;
  inactivity_probe: number | undefined;
  connection_mode: string | undefined;
  is_connected: boolean;
  role: string | undefined;
  other_config: StrMap;
  external_ids: StrMap;
}

export interface VswitchTables {
  Open_vSwitch: OpenVSwitchRow;
  Bridge: BridgeRow;
  Port: PortRow;
  Interface: InterfaceRow;
  Controller: ControllerRow;
  SSL: SslRow;
}

/** Statistics columns are left out on purpose: vswitchd rewrites them every few seconds. */
export const VSWITCH_COLUMNS: { [K in keyof VswitchTables]: readonly (keyof VswitchTables[K] & string)[] } = {
  Open_vSwitch: [
    'bridges',
    'ovs_version',
    'db_version',
    'datapath_types',
    'iface_types',
    'other_config',
    'external_ids',
    'next_cfg',
    'cur_cfg',
    'ssl',
  ],
  Bridge: [
    'name',
    'datapath_type',
    'datapath_id',
    'ports',
    'controller',
    'protocols',
    'fail_mode',
    'other_config',
    'external_ids',
    'status',
  ],
  Port: ['name', 'interfaces', 'tag', 'other_config', 'external_ids'],
  Interface: [
    'name',
    'type',
    'options',
    'ofport',
    'ofport_request',
    'mac_in_use',
    'mac',
    'external_ids',
    'error',
    'admin_state',
    'link_state',
    'mtu',
  ],
  Controller: [
    'target',
    'max_backoff',
    'inactivity_probe',
    'connection_mode',
    'is_connected',
    'role',
    'other_config',
    'external_ids',
  ],
  SSL: ['private_key', 'certificate', 'ca_cert', 'bootstrap_ca_cert'],
};

export const VSWITCH_DB = 'Open_vSwitch';
