// The start-up span: each milestone once (the first time), its wall and CPU time, one line at the first sync.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StartupSpan } from '../../../src/agent/runtime/startup-span.js';

test('each milestone keeps its first time; the line comes once, with the CPU time at each milestone', () => {
  const s = new StartupSpan();
  s.mark('loaded');
  s.mark('switch_connected');
  // Work between two milestones shows in the CPU time (spun until 15 ms of CPU are spent, however long that takes).
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const until = cpu() + 15;
  while (cpu() < until);
  s.mark('computed');
  const first = performance.now();
  s.mark('switch_connected'); // a reconnect: not the start's
  const line = s.finish({ installed_flows: 3, flow_mods: 1 }) as {
    since_process_start_ms: Record<string, number>;
    cpu_ms: Record<string, number>;
    installed_flows: number;
  };
  assert.ok(line);
  assert.deepEqual(Object.keys(line.since_process_start_ms), ['loaded', 'switch_connected', 'computed', 'in_sync']);
  assert.deepEqual(Object.keys(line.cpu_ms), Object.keys(line.since_process_start_ms));
  assert.ok(line.since_process_start_ms.switch_connected! < first);
  assert.ok(line.cpu_ms.computed! - line.cpu_ms.switch_connected! >= 10, JSON.stringify(line.cpu_ms));
  assert.equal(line.installed_flows, 3);
  assert.equal(s.finish({}), null);
  s.mark('dumped'); // after the line: ignored
});
