// Golden tests: our FLOW_MOD bytes equal ovs-ofctl's for the corpus, ofp-print reads them, OVS bytes decode and re-encode identically.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeMessage, encodeMessage, formatFlow, normalizeFlow, toHex } from '../../src/openflow/index.js';
import { CORPUS } from './corpus.js';
import { ovsEncodeFlow, ovsPrint } from './ovs-oracle.js';

const FIELDS_COVERED = new Set<string>();
const ACTIONS_COVERED = new Set<string>();
for (const e of CORPUS) {
  for (const k of Object.keys(e.flow.match)) FIELDS_COVERED.add(k);
  for (const i of e.flow.instructions) {
    ACTIONS_COVERED.add(`instruction:${i.type}`);
    if ('actions' in i) for (const a of i.actions) ACTIONS_COVERED.add(a.type);
  }
}

describe('golden corpus against ovs-ofctl', () => {
  test('corpus is big enough and covers every field and action of the model', async () => {
    assert.ok(CORPUS.length >= 60, `corpus has ${CORPUS.length} flows`);
    const { FIELDS } = await import('../../src/openflow/fields.js');
    const missing = FIELDS.map((f) => f.name).filter((n) => !FIELDS_COVERED.has(n));
    assert.deepEqual(missing, [], `fields without a corpus flow: ${missing.join(',')}`);
    const actions = [
      'output',
      'group',
      'set_field',
      'push_vlan',
      'pop_vlan',
      'dec_nw_ttl',
      'copy_ttl_out',
      'copy_ttl_in',
      'set_queue',
      'resubmit',
      'move',
      'load',
      'ct',
      'ct_clear',
      'conjunction',
      'learn',
      'note',
      'controller',
      'dec_ttl',
      'multipath',
      'check_pkt_larger',
    ];
    const instr = ['goto_table', 'write_metadata', 'apply_actions', 'write_actions', 'clear_actions', 'meter'].map(
      (i) => `instruction:${i}`,
    );
    const missingA = [...actions, ...instr].filter((a) => !ACTIONS_COVERED.has(a));
    assert.deepEqual(missingA, [], `actions without a corpus flow: ${missingA.join(',')}`);
  });

  for (const e of CORPUS.filter((c) => !c.ovsUnsupported)) {
    test(e.name, () => {
      const text = formatFlow(e.flow);
      const ours = toHex(encodeMessage({ type: 'flow_mod', xid: 1, command: 'add', flow: e.flow }));
      const theirs = ovsEncodeFlow(text);
      const printed = ovsPrint(ours);
      assert.ok(!/decode error|\*\*\*/.test(printed), `ofp-print could not read our bytes:\n${printed}`);
      assert.equal(printed, ovsPrint(theirs), `ofp-print differs for ${text}`);
      assert.equal(ours, theirs, `bytes differ for ${text}`);
      // OVS's bytes decode to the canonical model and re-encode to the same bytes.
      const m = decodeMessage(Buffer.from(theirs, 'hex'));
      assert.equal(m.type, 'flow_mod');
      if (m.type !== 'flow_mod') return;
      assert.deepEqual(m.flow, normalizeFlow(e.flow));
      assert.equal(toHex(encodeMessage(m)), theirs);
    });
  }
});

describe('parts OVS does not implement, against hand-made bytes', () => {
  for (const e of CORPUS.filter((c) => c.ovsUnsupported)) {
    test(`${e.name} round-trips`, () => {
      const bytes = encodeMessage({ type: 'flow_mod', xid: 9, command: 'add', flow: e.flow });
      const m = decodeMessage(bytes);
      assert.equal(m.type, 'flow_mod');
      if (m.type === 'flow_mod') assert.deepEqual(m.flow, normalizeFlow(e.flow));
    });
  }
  test('in_phy_port, pbb_isid, ipv6_exthdr OXM TLVs', () => {
    const get = (name: string) =>
      toHex(
        encodeMessage({
          type: 'flow_mod',
          xid: 0,
          command: 'add',
          flow: (CORPUS.find((c) => c.name === name) as (typeof CORPUS)[0]).flow,
        }),
      );
    // OXM_OF_IN_PHY_PORT = class 0x8000, field 1, len 4
    assert.match(get('in_phy_port'), /8000000400000001800002040000000100000000/);
    // OXM_OF_PBB_ISID_W = class 0x8000, field 37, hasmask, len 6
    assert.match(get('pbb_isid'), /80004b060000120000ff/);
    // OXM_OF_IPV6_EXTHDR_W = class 0x8000, field 39, hasmask, len 4
    assert.match(get('ipv6_exthdr'), /80004f0400040004/);
  });
  test('copy_ttl_out/in actions', () => {
    const hex = toHex(
      encodeMessage({
        type: 'flow_mod',
        xid: 0,
        command: 'add',
        flow: (CORPUS.find((c) => c.name === 'copy_ttl') as (typeof CORPUS)[0]).flow,
      }),
    );
    assert.match(hex, /0004001800000000000b000800000000000c000800000000$/);
  });
});

describe('actions outside the model', () => {
  const texts = [
    'actions=output(port=3,max_len=100)',
    'tcp,actions=fin_timeout(idle_timeout=5,hard_timeout=10),output:1',
    'actions=sample(probability=100,collector_set_id=1,obs_domain_id=2,obs_point_id=3)',
    'ip,actions=push_mpls:0x8847,set_mpls_ttl(5),output:2',
  ];
  for (const text of texts) {
    test(`${text} decodes to opaque actions and re-encodes byte for byte`, () => {
      const theirs = ovsEncodeFlow(text);
      const m = decodeMessage(Buffer.from(theirs, 'hex'));
      assert.equal(m.type, 'flow_mod');
      if (m.type !== 'flow_mod') return;
      const actions = m.flow.instructions.flatMap((i) => ('actions' in i ? i.actions : []));
      assert.ok(actions.some((a) => a.type === 'opaque'));
      assert.equal(toHex(encodeMessage(m)), theirs);
      assert.deepEqual(normalizeFlow(m.flow), m.flow);
      assert.match(formatFlow(m.flow), /opaque\([0-9a-f]+\)/);
    });
  }
});
