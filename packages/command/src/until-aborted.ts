/** Resolves once `signal` aborts (at once if it already has): how a long-running command waits for SIGINT/SIGTERM. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
