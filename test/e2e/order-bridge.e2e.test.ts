// Issue 6 "Done when" 3, OVS side: agents started before their bridges exist wait (and say so),
// then take over the user's add-br keeping its datapath_type, and the matrix holds.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { addBridges, addVms, build, check, HOSTS, state } from './order.js';

after(async () => {
  await state.current?.down();
});

test('agents before their bridges exist (they wait), then API calls, then bridges, then VM ports', async () => {
  const c = await build('eoc', ['agents', 'api'], { noBridges: true });
  for (const h of HOSTS) {
    const deadline = Date.now() + 10_000;
    while (!/waiting for bridge br0 to exist/.test(c.agents.get(h)!.logTail(50)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    assert.match(c.agents.get(h)!.logTail(50), /waiting for bridge br0 to exist/);
  }
  await addBridges(c);
  await addVms(c);
  // The user's datapath_type is kept; fail_mode becomes secure.
  assert.equal((await c.lab.host('h1').vsctl('get', 'bridge', 'br0', 'datapath_type')).trim(), 'netdev');
  const deadline = Date.now() + 10_000;
  while (
    (await c.lab.host('h1').vsctl('get', 'bridge', 'br0', 'fail_mode')).trim() !== 'secure' &&
    Date.now() < deadline
  )
    await new Promise((r) => setTimeout(r, 100));
  assert.equal((await c.lab.host('h1').vsctl('get', 'bridge', 'br0', 'fail_mode')).trim(), 'secure');
  await check(c);
});
