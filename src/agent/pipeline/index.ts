// Public surface of the agent's pipeline: declaration, layouts, model view, flow generation and diff.
export * from './tables.js';
export * from './registers.js';
export * from './cookies.js';
export * from './meters.js';
export * from './model-view.js';
export * from './flows.js';
export * from './diff.js';
export { PipelineAddressError, PipelineModelError, parseIpv4, parseMac, formatIpv4, formatMac } from './addr.js';
export { formatFlow, tableListMarkdown } from './format.js';
export { SimSwitch, type Packet, type SimResult } from './simulate.js';
export { isUplink, uplinkProblems, virtualMtu } from './uplink.js';
export { type Announcement, floatingAnnouncements, statusContext } from './floating.js';
export { gatewayAnnouncements } from './gateway.js';
export { packetOutTo } from './trunk.js';
