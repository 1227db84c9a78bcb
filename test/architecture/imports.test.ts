// The import graph of src/ keeps its shape: no file reaches itself through its imports, and each room imports
// only from the rooms it may depend on (the protocol codecs and the model know nothing of who uses them).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

/** Room rules: files whose src-relative path starts with one of `from` import nothing under the `forbid` folders. */
const RULES: readonly { from: readonly string[]; forbid: readonly string[]; why: string }[] = [
  {
    from: ['cli/vnctl', 'agent/'],
    forbid: ['server/', 'store/'],
    why: 'the CLI and the agent talk to the server over its API, never through its code or database',
  },
  {
    from: ['openvnet/'],
    forbid: ['server/', 'store/', 'agent/'],
    why: "OpenVNet's datasets are loaded through the API, as OpenVNet's harness loaded them",
  },
  {
    from: ['model/'],
    forbid: ['server/', 'store/', 'agent/', 'cli/'],
    why: 'the model describes resources; everyone uses it, it uses no one',
  },
  {
    from: ['openflow/', 'ovsdb/', 'packet/', 'unixctl/'],
    forbid: ['server/', 'store/', 'agent/', 'cli/', 'lab/'],
    why: 'protocol codecs are libraries: they know nothing of the programs built on them',
  },
];

const root = resolve(import.meta.dirname, '../..');
const src = join(root, 'src');

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

// `from '…'` (import and export … from), `import('…')` and bare `import '…'`; type-only imports count too,
// because a type cycle is still a knot in the design.
const SPECIFIER = /\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

/** src-relative paths of the src files `file` imports (packages and node: builtins are left out). */
function importsOf(file: string): string[] {
  const out = new Set<string>();
  for (const m of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
    const spec = m[1] ?? m[2] ?? m[3]!;
    if (!spec.startsWith('.')) continue;
    let target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    if (!existsSync(target) && existsSync(join(target, 'index.ts'))) target = join(target, 'index.ts');
    assert.ok(existsSync(target), `${relative(root, file)} imports ${spec}, which does not resolve to a file`);
    if (target.startsWith(src + '/')) out.add(relative(src, target));
  }
  return [...out].sort();
}

const graph = new Map<string, string[]>(
  walk(src)
    .sort()
    .map((f) => [relative(src, f), importsOf(f)]),
);

/** Import cycles as paths a → b → … → a: one per back edge of a depth-first walk (files in sorted order). */
function findCycles(g: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): void => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of g.get(n) ?? []) {
      const s = state.get(m);
      if (s === 'open') cycles.push([...stack.slice(stack.indexOf(m)), m]);
      else if (s === undefined) visit(m);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of g.keys()) if (!state.has(n)) visit(n);
  return cycles;
}

test('the import scan sees src/ (sanity: files and edges found)', () => {
  assert.ok(graph.size > 50, `only ${graph.size} files under src/`);
  assert.ok(graph.get('agent/pipeline/index.ts')?.includes('agent/pipeline/tables.ts'));
});

test('no import cycle anywhere in src/', () => {
  const cycles = findCycles(graph);
  assert.deepEqual(
    cycles.map((c) => c.join(' → ')),
    [],
    'import cycles (move what both sides need into a file of its own)',
  );
});

test('cycle finder reports the path of a cycle', () => {
  const g = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a']],
    ['d', ['a']],
  ]);
  assert.deepEqual(findCycles(g), [['a', 'b', 'c', 'a']]);
});

test('each room imports only from rooms it may depend on', () => {
  const broken: string[] = [];
  for (const [file, imports] of graph)
    for (const rule of RULES) {
      if (!rule.from.some((p) => file.startsWith(p))) continue;
      for (const i of imports)
        if (rule.forbid.some((p) => i.startsWith(p))) broken.push(`${file} imports ${i} (${rule.why})`);
    }
  assert.deepEqual(broken, []);
});
