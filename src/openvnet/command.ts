// `vnet dataset DIR NAME`: loads one of OpenVNet's integration-test datasets (or a file set in their format) into
// a vnet server, making the calls OpenVNet's harness made, in its order, and printing each with its answer.
import { Command } from '@commander-js/extra-typings';
import { applyDataset, datasetFiles, loadDataset } from './dataset.js';

const DEFAULT_API = 'http://127.0.0.1:9090';

/** `--set key=value`, repeatable: one `<%= key %>` value each (OpenVNet's harness took them from its config). */
function collectOption(text: string, all: Record<string, string> | undefined): Record<string, string> {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new Error(`--set: '${text}' is not key=value`);
  return { ...all, [text.slice(0, eq)]: text.slice(eq + 1) };
}

export function datasetCommand() {
  return new Command('dataset')
    .description(
      "load an OpenVNet integration-test dataset: DIR holds base.yml, base_dp.yml, base_topology.yml and NAME.yml (OpenVNet's integration_test/dataset), loaded as its harness did",
    )
    .argument('<dir>', 'directory of the dataset files')
    .argument(
      '<name>',
      'dataset name, e.g. simple_seg (a name ending in _tp loads base_topology.yml, else base_dp.yml)',
    )
    .option('--api <url>', 'the vnet server (default: $VNET_API, else http://127.0.0.1:9090)')
    .option('--set <key=value>', "a value for the files' <%= key %> placeholders (repeatable)", collectOption)
    .option('--keep-going', 'make every call even after one is refused (OpenVNet stopped at the first)')
    .option('--dry-run', 'print the calls without making them')
    .action(async (dir, name, opts) => {
      let calls: ReturnType<typeof loadDataset>;
      try {
        calls = loadDataset(dir, name, opts.set ?? {});
      } catch (e) {
        process.stderr.write(`vnet dataset: ${(e as Error).message}\n`);
        process.exit(2);
      }
      const line = (c: (typeof calls)[number]) => `${c.method} /api/${c.path} ${new URLSearchParams(c.params)}`;
      if (opts.dryRun) {
        for (const c of calls) process.stdout.write(`${line(c)}\n`);
        return;
      }
      const api = (opts.api ?? process.env.VNET_API ?? DEFAULT_API).replace(/\/+$/, '');
      const token = process.env.VNET_TOKEN?.trim();
      const replies = await applyDataset(api, calls, {
        keepGoing: opts.keepGoing ?? false,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      let refused = 0;
      for (const r of replies) {
        const ok = r.status >= 200 && r.status <= 299;
        if (!ok) refused++;
        process.stdout.write(`${r.status} ${line(r.call)}${ok ? '' : `\n    ${r.body.trim()}`}\n`);
      }
      process.stdout.write(
        `${datasetFiles(name).join(' + ')}: ${replies.length - refused} of ${calls.length} calls accepted` +
          `${refused ? `, ${refused} refused` : ''}${replies.length < calls.length ? `, ${calls.length - replies.length} not made` : ''}\n`,
      );
      process.exit(refused ? 1 : 0);
    });
}
