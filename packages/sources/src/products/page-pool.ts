/**
 * Runs `task(i)` for every i in [from, to] with at most `concurrency` at once.
 * The first failure aborts the others (through the signal each task gets)
 * and, once all have stopped, is rethrown; later failures are consequences.
 */
export async function runPagePool(
  from: number,
  to: number,
  concurrency: number,
  task: (index: number, signal: AbortSignal) => Promise<void>,
  outer: AbortSignal,
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
          stop.abort(error);
        }
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, to - from + 1) }, lane));
  if (failure !== undefined) throw failure.error;
}
