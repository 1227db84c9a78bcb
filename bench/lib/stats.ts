// What every bench needs from its command line and its samples: a numeric option, a percentile, ms rounding.

/** `--name N` from `args`, else `def`. */
export function numOption(args: readonly string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
}

/** The p-th percentile (nearest rank) of `xs`; NaN when there are none. */
export function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

/** Milliseconds to two decimals, for reports. */
export const ms = (x: number): number => Math.round(x * 100) / 100;
