// Issue 6 "Done when" 3: the matrix holds whatever the order of API calls, agent start and VM
// ports. Each ordering builds its own two-host lab (see order.ts).
import { after, test } from 'node:test';
import { build, check, state } from './order.js';

after(async () => {
  await state.current?.down();
});

test('VM ports first, then the API calls, then the agents', async () => {
  await check(await build('eoa', ['vms', 'api', 'agents']));
});

test('agents first, then VM ports, then the API calls', async () => {
  await check(await build('eob', ['agents', 'vms', 'api']));
});
