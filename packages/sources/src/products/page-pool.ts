/** How a pool reacts to its first failure. */
export interface PagePoolOptions {
  /**
   * Whether the first failure stops the pages in flight (through their
   * signal). When it does not, lanes take no new page but let the pages in
   * flight finish, so what they fetched is kept (a rate limit: those answers
   * were already paid for). @defaultValue always
   */
  abortInFlight?(error: unknown): boolean;
  /** Called once with the first failure, before the pool waits for the pages in flight. */
  onFirstFailure?(error: unknown): void;
}

/**
 * Runs `task(i)` for every i in [from, to] with at most `concurrency` at once.
 * The first failure stops the others (see `PagePoolOptions`) and, once all
 * have stopped, is rethrown; later failures are consequences.
 */
export async function runPagePool(
  from: number,
  to: number,
  concurrency: number,
  task: (index: number, signal: AbortSignal) => Promise<void>,
  outer: AbortSignal,
  options: PagePoolOptions = {},
): Promise<void> {
  if (to < from) return;
  const stop = new AbortController();
  const signal = AbortSignal.any([outer, stop.signal]);
  let next = from;
  let failure: { error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (failure === undefined && next <= to) {
      const index = next++;
      try {
        await task(index, signal);
      } catch (error) {
        if (failure === undefined) {
          failure = { error };
          options.onFirstFailure?.(error);
          if (options.abortInFlight?.(error) ?? true) stop.abort(error);
        }
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, to - from + 1) }, lane));
  if (failure !== undefined) throw failure.error;
}
