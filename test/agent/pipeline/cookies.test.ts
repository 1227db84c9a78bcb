// Cookies name their owner: kind, feature tag and object hash; masks select an object's or a kind's flows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  COOKIE_MASK_KIND,
  COOKIE_MASK_OBJECT,
  cookieFor,
  describeCookie,
  isDhcpPunt,
  objectHash,
  pipelineCookie,
} from '../../../src/agent/pipeline/cookies.js';

test('describeCookie names kind, tag and uuid', () => {
  const c = cookieFor('interface', 'if-veth1', 'arp');
  const d = describeCookie(c);
  assert.equal(d.kind, 'interface');
  assert.equal(d.tag, 'arp');
  assert.equal(d.uuid, 'if-veth1');
  assert.equal(d.text, 'interface if-veth1 (arp)');
  assert.equal(describeCookie(pipelineCookie('ipv6')).text, 'pipeline (ipv6)');
  assert.equal(describeCookie(0xff00000000000001n).kind, 'unknown');
});

test('the object mask selects every flow of one object and nothing of another', () => {
  const a1 = cookieFor('interface', 'if-a', 'arp');
  const a2 = cookieFor('interface', 'if-a', 'l2');
  const b = cookieFor('interface', 'if-b', 'arp');
  assert.equal(a1 & COOKIE_MASK_OBJECT, a2 & COOKIE_MASK_OBJECT);
  assert.notEqual(a1 & COOKIE_MASK_OBJECT, b & COOKIE_MASK_OBJECT);
  assert.equal(a1 & COOKIE_MASK_KIND, b & COOKIE_MASK_KIND);
  assert.notEqual(a1 & COOKIE_MASK_KIND, cookieFor('network', 'if-a') & COOKIE_MASK_KIND);
});

test('hashes are stable, 48-bit, and distinct over 100k uuids', () => {
  assert.equal(objectHash('if-veth1'), objectHash('if-veth1'));
  const seen = new Set<bigint>();
  for (let k = 0; k < 100_000; k++) {
    const h = objectHash(`if-${k.toString(36)}`);
    assert.ok(h < 1n << 48n);
    seen.add(h);
  }
  assert.equal(seen.size, 100_000);
});

test('DHCP punts are recognised by cookie', () => {
  assert.ok(isDhcpPunt(pipelineCookie('dhcp')));
  assert.ok(!isDhcpPunt(cookieFor('network_service', 'ns-1', 'dhcp')));
  assert.ok(!isDhcpPunt(cookieFor('interface', 'ns-1', 'dhcp')));
  assert.ok(!isDhcpPunt(cookieFor('network_service', 'ns-1', 'arp')));
});
