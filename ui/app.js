// @ts-check
// The live topology page (docs/ui.md): the model of model.js kept current by the change feed (feed.js), drawn
// with cytoscape; a side panel with the hosts' agent states, the selected object's details and a trace form.
// Everything the API says is put into the page as text (textContent) or drawn on cytoscape's canvas, never as
// HTML. The drawn graph is published as `window.vnetTopology` (and a `vnet:drawn` event) for tests and benches.
import { addressesOf, hostState, layoutOf, networkAddress, networksOf, Topology } from './model.js';
import { api, followFeed, NeedToken, savedToken, saveToken } from './feed.js';
import cytoscape from './vendor/cytoscape.esm.min.js';

/** @typedef {import('./model.js').Graph} Graph */
/** @typedef {import('./model.js').Item} Item */

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

const topology = new Topology();

const STYLE = [
  {
    selector: 'node',
    style: {
      label: 'data(label)',
      'text-wrap': 'wrap',
      'font-size': 11,
      'text-valign': 'bottom',
      'text-margin-y': 4,
      color: '#1f2933',
    },
  },
  {
    selector: 'node[kind = "host"]',
    style: {
      shape: 'round-rectangle',
      'background-color': '#f0f4f8',
      'border-width': 3,
      'text-valign': 'top',
      'text-margin-y': -4,
      'font-size': 13,
      'font-weight': 'bold',
      padding: '18px',
    },
  },
  { selector: 'node[kind = "host"][state = "connected"]', style: { 'border-color': '#2f8132' } },
  { selector: 'node[kind = "host"][state = "out-of-sync"]', style: { 'border-color': '#cb6e17' } },
  {
    selector: 'node[kind = "host"][state = "disconnected"]',
    style: { 'border-color': '#ba2525', 'border-style': 'dashed' },
  },
  {
    selector: 'node[kind = "network"]',
    style: { shape: 'ellipse', width: 34, height: 34, 'background-color': '#2680c2' },
  },
  { selector: 'node[kind = "network"][state = "physical"]', style: { shape: 'barrel', 'background-color': '#0b4f71' } },
  {
    selector: 'node[kind = "router"]',
    style: { shape: 'diamond', width: 38, height: 38, 'background-color': '#7c5dc7' },
  },
  {
    selector: 'node[kind = "interface"]',
    style: { shape: 'round-rectangle', width: 22, height: 22, 'background-color': '#3ebd93', 'font-size': 10 },
  },
  { selector: 'node[kind = "interface"][state = "down"]', style: { 'background-color': '#ba2525' } },
  { selector: 'node[kind = "interface"][state = "unbound"]', style: { 'background-color': '#9aa5b1' } },
  {
    selector: 'node[kind = "translation"]',
    style: { shape: 'tag', width: 22, height: 18, 'background-color': '#f0b429', 'font-size': 10 },
  },
  { selector: 'edge', style: { width: 2, 'line-color': '#9aa5b1', 'curve-style': 'bezier' } },
  {
    selector: 'edge[kind = "router-port"]',
    style: {
      'line-color': '#7c5dc7',
      width: 3,
      label: 'data(label)',
      'font-size': 10,
      'text-background-color': '#fff',
      'text-background-opacity': 1,
    },
  },
  { selector: 'edge[kind = "translation"]', style: { 'line-color': '#f0b429', 'line-style': 'dashed' } },
  { selector: ':selected', style: { 'overlay-color': '#2680c2', 'overlay-opacity': 0.25 } },
  { selector: '.traced', style: { 'underlay-color': '#f0b429', 'underlay-opacity': 0.6, 'underlay-padding': 6 } },
  { selector: 'edge.traced', style: { 'line-color': '#f0b429', width: 5 } },
];

const cy = cytoscape({ container: $('graph'), style: /** @type {any} */ (STYLE), minZoom: 0.2, maxZoom: 3 });

/** @type {string | null} */
let selected = null;
let pending = false;
/** @type {number | null} */
let firstDrawnMs = null;
/** Whether the user zoomed or panned (then a change no longer refits the view). */
let userMoved = false;

/**
 * Draws the model's graph at the next frame: the changes that arrive before it (the several revisions of one
 * write, a burst of agents' reports) are drawn together.
 */
function scheduleDraw() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    draw(topology.graph());
  });
}

/**
 * Brings cytoscape's elements to `graph` and puts every node where the layout (model.js) says, then publishes
 * the drawing. The view is fitted to the graph at first, and after a change that adds or removes
 * something as long as the user has not zoomed or panned.
 * @param {Graph} graph
 */
function draw(graph) {
  const want = new Set([...graph.nodes.map((n) => n.id), ...graph.edges.map((e) => e.id)]);
  let changed = false;
  const pos = layoutOf(graph);
  cy.batch(() => {
    for (const el of cy.elements().toArray())
      if (!el.removed() && !want.has(el.id())) {
        el.remove();
        changed = true;
      }
    for (const n of graph.nodes) {
      const el = cy.getElementById(n.id);
      const parent = n.parent ?? null;
      if (el.empty()) {
        cy.add({ group: 'nodes', data: { ...n }, position: { ...(pos[n.id] ?? { x: 0, y: 0 }) } });
        changed = true;
      } else {
        if ((el.data('parent') ?? null) !== parent) {
          el.move({ parent });
          changed = true;
        }
        el.data({ label: n.label, state: n.state });
      }
    }
    for (const e of graph.edges) {
      const el = cy.getElementById(e.id);
      if (el.empty()) {
        cy.add({ group: 'edges', data: { ...e } });
        changed = true;
      } else el.data({ label: e.label });
    }
    // A host with interfaces is as big as they are (cytoscape sizes it); an empty one has a place of its own.
    // Only those that move: a position set is a bounding box to recompute.
    for (const n of cy.nodes().toArray()) {
      const p = pos[n.id()];
      if (!p || n.isParent()) continue;
      const at = n.position();
      if (at.x !== p.x || at.y !== p.y) n.position(p);
    }
  });
  if (firstDrawnMs === null || (changed && !userMoved)) cy.fit(undefined, 40);
  published(graph);
  renderHosts();
  if (selected) showDetails(selected);
}

/** @param {Graph} graph */
function published(graph) {
  if (firstDrawnMs === null) firstDrawnMs = performance.now();
  // Where each node is drawn (CSS pixels in the graph's box): a test clicks there.
  /** @type {Record<string, { x: number, y: number }>} */
  const positions = {};
  for (const n of cy.nodes().toArray()) positions[n.id()] = n.renderedPosition();
  const model = { revision: topology.revision, nodes: graph.nodes, edges: graph.edges, positions, firstDrawnMs };
  /** @type {any} */ (window).vnetTopology = model;
  document.body.dataset.revision = String(topology.revision);
  $('revision').textContent =
    `revision ${topology.revision} · ${graph.nodes.length} nodes, ${graph.edges.length} edges`;
  window.dispatchEvent(new CustomEvent('vnet:drawn', { detail: model }));
}

/**
 * @param {string} tag
 * @param {string} text
 * @param {Record<string, string>} [attrs]
 */
function el(tag, text, attrs = {}) {
  const e = document.createElement(tag);
  e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function renderHosts() {
  const list = $('host-list');
  list.replaceChildren();
  const interfaces = topology.list('interfaces');
  const hosts = topology.list('datapaths').sort((a, b) => String(a.node_id).localeCompare(String(b.node_id)));
  for (const dp of hosts) {
    const state = hostState(dp);
    const bound = interfaces.filter((i) => i.active_datapath_uuid === dp.uuid).length;
    const li = el('li', '', { 'data-host': dp.uuid, 'data-state': state });
    const name = el('a', dp.display_name || dp.node_id, { href: '#' });
    name.addEventListener('click', (ev) => {
      ev.preventDefault();
      select(dp.uuid);
    });
    li.append(
      name,
      ' ',
      el('span', state === 'out-of-sync' ? 'connected, flows out of sync' : state, { class: `state ${state}` }),
      ` ${bound} interface${bound === 1 ? '' : 's'}`,
    );
    if (dp.last_error) li.append(el('div', dp.last_error, { class: 'error' }));
    list.append(li);
  }
}

/** @param {string | null} id */
function select(id) {
  selected = id;
  cy.elements().unselect();
  if (id) cy.getElementById(id).select();
  if (id) showDetails(id);
  else $('details').hidden = true;
}

/** @param {unknown} v */
const show = (v) => (v === null || v === undefined || v === '' ? '—' : String(v));

/** @param {string | null | undefined} dp */
const hostName = (dp) => {
  const d = dp ? topology.get('datapaths', dp) : undefined;
  return d ? `${d.node_id} (${d.uuid})` : show(dp);
};

/** @param {string} id */
function showDetails(id) {
  const rows = detailsOf(id);
  if (!rows) {
    $('details').hidden = true;
    return;
  }
  $('details').hidden = false;
  const list = $('details-list');
  const title = rows.title;
  if ($('details-title').textContent !== title) $('trace-result').hidden = true;
  $('details-title').textContent = title;
  list.replaceChildren(...rows.fields.flatMap(([k, v]) => [el('dt', k), el('dd', show(v))]));
  $('details').dataset.uuid = rows.traceFrom ?? '';
  $('trace-form').hidden = !rows.traceFrom;
}

/**
 * What the panel shows of the object `id` (a node's uuid, or a router-port edge's id).
 * @param {string} id
 * @returns {{ title: string, fields: [string, unknown][], traceFrom?: string } | null}
 */
function detailsOf(id) {
  const edge = cy.getElementById(id);
  if (edge.nonempty() && edge.isEdge() && edge.data('interface')) return detailsOf(edge.data('interface'));
  const ifaces = topology.list('interfaces');
  const dp = topology.get('datapaths', id);
  if (dp)
    return {
      title: `host ${dp.node_id}`,
      fields: [
        ['datapath', dp.uuid],
        ['dpid', dp.dpid],
        ['tunnel address', dp.ipv4_address],
        ['encap', dp.encap],
        ['agent connected', dp.is_connected],
        ['flows in sync', dp.flows_in_sync],
        ['last error', dp.last_error],
        [
          'interfaces',
          ifaces
            .filter((i) => i.active_datapath_uuid === id)
            .map((i) => i.uuid)
            .join(', '),
        ],
      ],
    };
  const nw = topology.get('networks', id);
  if (nw)
    return {
      title: `network ${nw.display_name || nw.uuid}`,
      fields: [
        ['uuid', nw.uuid],
        ['address', networkAddress(nw)],
        ['mode', nw.network_mode],
        ['vlan', nw.vlan_id],
        ['tunnel key', nw.tunnel_key],
        [
          'interfaces',
          ifaces
            .filter((i) => networksOf(i).includes(id))
            .map((i) => i.uuid)
            .join(', '),
        ],
      ],
    };
  const rl = topology.get('route_links', id);
  if (rl) {
    const routes = topology.list('routes').filter((r) => r.route_link_uuid === id);
    return {
      title: `router ${rl.display_name || rl.uuid}`,
      fields: [
        ['route link', rl.uuid],
        ['MAC', rl.mac_address],
        ...routes.map(
          (r) =>
            /** @type {[string, unknown]} */ ([
              `route ${r.uuid}`,
              `${r.ipv4_network}/${r.ipv4_prefix} via ${r.interface_uuid}${r.gateway_ipv4_address ? ` gw ${r.gateway_ipv4_address}` : ''}`,
            ]),
        ),
      ],
    };
  }
  const tr = topology.get('translations', id);
  if (tr)
    return {
      title: `translation ${tr.uuid}`,
      fields: [
        ['mode', tr.mode],
        ['interface', tr.interface_uuid],
        [
          'addresses',
          (tr.static_addresses ?? [])
            .map((/** @type {Item} */ s) => `${s.ingress_ipv4_address} ↔ ${s.egress_ipv4_address}`)
            .join(', '),
        ],
        ['active on', hostName(tr.active_datapath_uuid)],
      ],
    };
  const i = topology.get('interfaces', id);
  if (i) {
    const routes = topology.list('routes').filter((r) => r.interface_uuid === id);
    return {
      title: `interface ${i.display_name || i.uuid}`,
      fields: [
        ['uuid', i.uuid],
        ['mode', i.mode ?? 'vif'],
        ['MAC', i.mac_address],
        [
          'addresses',
          addressesOf(i)
            .map((a) => `${a.ip} on ${a.network}`)
            .join(', '),
        ],
        ['status', i.status ?? 'down'],
        ['bound on', hostName(i.active_datapath_uuid)],
        ['port', i.active_port_name ?? i.port_name],
        ['security groups', (i.security_group_uuids ?? []).join(', ')],
        [
          'translations',
          topology
            .list('translations')
            .filter((t) => t.interface_uuid === id)
            .map((t) => t.uuid)
            .join(', '),
        ],
        ...(routes.length ? [/** @type {[string, unknown]} */ (['router of', routes[0].route_link_uuid])] : []),
      ],
      ...(routes.length === 0 ? { traceFrom: i.uuid } : {}),
    };
  }
  return null;
}

/** @param {SubmitEvent} ev */
async function runTrace(ev) {
  ev.preventDefault();
  const from = $('details').dataset.uuid;
  if (!from) return;
  const dst = /** @type {HTMLInputElement} */ ($('trace-dst')).value.trim();
  const proto = /** @type {HTMLSelectElement} */ ($('trace-proto')).value;
  const dport = /** @type {HTMLInputElement} */ ($('trace-dport')).value;
  const verdict = $('trace-verdict');
  const path = $('trace-path');
  $('trace-result').hidden = false;
  verdict.textContent = 'tracing…';
  verdict.dataset.result = '';
  path.replaceChildren();
  cy.elements().removeClass('traced');
  try {
    const body = { interface_uuid: from, dst, proto, ...(dport && proto !== 'icmp' ? { dport: Number(dport) } : {}) };
    /** @type {import('../src/model/trace.js').TraceResult} */
    const r = await api('POST', '/traces', body);
    verdict.textContent = `${r.result}: ${r.verdict}`;
    verdict.dataset.result = r.result;
    path.replaceChildren(...r.path.map((p) => el('li', p)));
    for (const p of r.path)
      for (const m of p.matchAll(/\b(?:if|nw|rl|dp|tr)-[a-z0-9]+\b/g)) {
        cy.getElementById(m[0]).addClass('traced');
        cy.edges(`[interface = "${m[0]}"]`).addClass('traced');
      }
  } catch (err) {
    if (err instanceof NeedToken) askToken(err.message);
    verdict.textContent = `trace failed: ${err instanceof Error ? err.message : String(err)}`;
    verdict.dataset.result = 'error';
  }
}

/** @type {AbortController | null} */
let feed = null;

function start() {
  feed?.abort();
  const mine = new AbortController();
  feed = mine;
  const badge = $('feed-state');
  void followFeed(
    {
      snapshot: (s) => {
        topology.load(s);
        scheduleDraw();
      },
      change: (c) => {
        if (topology.apply(c)) scheduleDraw();
      },
      state: (state, detail) => {
        badge.dataset.state = state;
        badge.textContent = state === 'retrying' ? `reconnecting (${detail ?? ''})` : state;
        if (state === 'need-token') askToken(savedToken() ? `token refused: ${detail ?? ''}` : '');
      },
      revision: () => topology.revision,
    },
    mine.signal,
  );
}

/** @param {string} error */
function askToken(error) {
  saveToken(null);
  $('token-form').hidden = false;
  $('token-error').textContent = error;
  /** @type {HTMLInputElement} */ ($('token-input')).focus();
}

$('token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = /** @type {HTMLInputElement} */ ($('token-input'));
  saveToken(input.value.trim());
  input.value = '';
  $('token-form').hidden = true;
  start();
});
$('trace-form').addEventListener('submit', (ev) => void runTrace(/** @type {SubmitEvent} */ (ev)));
for (const ev of ['wheel', 'mousedown', 'touchstart'])
  $('graph').addEventListener(ev, () => {
    userMoved = true;
  });
$('fit').addEventListener('click', () => {
  userMoved = false;
  cy.fit(undefined, 40);
});
cy.on('tap', (ev) => {
  const t = ev.target;
  if (t === cy) select(null);
  else if (t.isNode() || t.data('interface')) select(t.id());
});
start();
