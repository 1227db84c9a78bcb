// Runs a bench's setup requests a few at a time: concurrent writes share the server's group commits.

/** Runs `fn` over `items`, `concurrency` at a time, in order of start. */
export async function eachLimited<T>(
  items: readonly T[],
  concurrency: number,
  fn: (x: T, index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const k = next++;
      await fn(items[k]!, k);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
