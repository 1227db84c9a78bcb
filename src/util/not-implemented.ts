// Placeholder action for subcommands whose issue has not landed yet: says so, exits non-zero.
export function notImplemented(what: string): () => never {
  return () => {
    process.stderr.write(`vnet: '${what}' is not implemented yet\n`);
    process.exit(3);
  };
}
