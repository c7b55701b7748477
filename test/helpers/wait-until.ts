import { setTimeout as delay } from 'node:timers/promises';

/**
 * Waits until `probe` answers true, asking again every `everyMs` (a state of
 * servers or processes, never a fixed sleep), for at most `timeoutMs`. On time-out
 * it throws naming `what`, the last error the probe threw, and `state()`: what a
 * reader of the failure needs to see.
 */
export async function waitUntil(
  what: string,
  probe: () => boolean | Promise<boolean>,
  options: { timeoutMs?: number; everyMs?: number; state?: () => string | Promise<string> } = {},
): Promise<void> {
  const { timeoutMs = 30_000, everyMs = 50, state } = options;
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      if (await probe()) return;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      const seen = state ? `\n${await state()}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}${seen}`);
    }
    await delay(everyMs);
  }
}
