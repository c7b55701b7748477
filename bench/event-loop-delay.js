// The worst event-loop delay while some work runs (perf_hooks monitorEventLoopDelay).
// A worker renews its job lock from the event loop every WORKER_LOCK_MS / 2; a
// delay longer than that half could let the lock expire while the job runs.
import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * Starts watching the event loop (10 ms resolution); `stop()` returns the
 * worst delay and the 99th percentile in milliseconds.
 */
export function watchEventLoop() {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  return {
    stop() {
      h.disable();
      const ms = (ns) => Math.round(ns / 1e4) / 100;
      return { eventLoopMaxMs: ms(h.max), eventLoopP99Ms: ms(h.percentile(99)) };
    },
  };
}
