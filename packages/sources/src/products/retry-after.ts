/**
 * Reads an HTTP `Retry-After` value (RFC 9110 §10.2.3): whole seconds, or an
 * HTTP date. Answers the wait in milliseconds, or undefined when the value is
 * missing, unreadable, negative or a date not in the future: such a header
 * says nothing usable, so the caller backs off as if there were none. A wait
 * too long to honour is the caller's to clamp.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+$/.test(v)) return Math.min(Number(v) * 1000, Number.MAX_SAFE_INTEGER);
  // Only real HTTP dates (IMF-fixdate and the obsolete forms all name a weekday or month); not "1.5", "-5" or "soon".
  if (!/[A-Za-z]{3}/.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at) || at <= now) return undefined;
  return at - now;
}
