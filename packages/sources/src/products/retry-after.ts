/**
 * Reads an HTTP `Retry-After` value (RFC 9110 §10.2.3): whole seconds, or an
 * HTTP date. Answers the wait in milliseconds (0 for a date in the past), or
 * undefined when the value is missing or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // Only real HTTP dates (IMF-fixdate and the obsolete forms all name a weekday or month); not "1.5" or "soon".
  if (!/[A-Za-z]{3}/.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
