const realNow = Date.now.bind(Date);

/**
 * Moves `Date.now()` of this process to `atMs` (and lets it run on from
 * there) until `restoreClock()`. BullMQ's job schedulers and workers take every
 * timestamp from `Date.now()` (its Lua scripts do not read Redis TIME), so a
 * scheduler can be driven across dates without waiting. Calling it again moves the clock again.
 */
export function shiftClock(atMs: number): void {
  const offset = atMs - realNow();
  Date.now = () => realNow() + offset;
}

/** Puts the real clock back. */
export function restoreClock(): void {
  Date.now = realNow;
}
