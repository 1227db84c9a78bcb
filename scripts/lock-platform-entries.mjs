#!/usr/bin/env node
// Adds lockfile entries for @biomejs/biome's other-platform binaries. The registry these machines
// reach does not serve them (404), so `npm install` leaves them out of package-lock.json and
// `npm ci` then refuses the lock as out of sync. The entries carry os/cpu, so npm skips them here.
// Run after any `npm install` that rewrites the lock.
import { readFileSync, writeFileSync } from 'node:fs';

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const biome = lock.packages['node_modules/@biomejs/biome'];
if (!biome) throw new Error('@biomejs/biome is not in package-lock.json');
const platforms = {
  'win32-x64': ['win32', 'x64'],
  'win32-arm64': ['win32', 'arm64'],
  'darwin-x64': ['darwin', 'x64'],
  'darwin-arm64': ['darwin', 'arm64'],
  'linux-x64': ['linux', 'x64'],
  'linux-arm64': ['linux', 'arm64'],
  'linux-x64-musl': ['linux', 'x64', 'musl'],
  'linux-arm64-musl': ['linux', 'arm64', 'musl'],
  'android-x64': ['android', 'x64'],
  'android-arm64': ['android', 'arm64'],
};
let added = 0;
for (const [name, [os, cpu, libc]] of Object.entries(platforms)) {
  const key = `node_modules/@biomejs/cli-${name}`;
  if (lock.packages[key]) continue;
  lock.packages[key] = {
    version: biome.version,
    cpu: [cpu],
    dev: true,
    license: 'MIT OR Apache-2.0',
    optional: true,
    os: [os],
    ...(libc ? { libc: [libc] } : {}),
    engines: { node: '>=14.21.3' },
  };
  added++;
}
const { '': rootPkg, ...rest } = lock.packages;
lock.packages = { '': rootPkg };
for (const k of Object.keys(rest).sort()) lock.packages[k] = rest[k];
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} platform entries`);
