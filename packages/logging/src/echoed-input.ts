/**
 * Characters of an outside value (job data, an environment variable, a flag)
 * that a message may repeat.
 * @defaultValue 200
 */
export const ECHO_MAX_CHARS = 200;

/**
 * An outside value as a message shows it: JSON-quoted, and when longer than
 * `max` characters cut there, with its full length:
 * `"abcd…" (5,242,880 characters)`. The one way validation messages repeat
 * input, so a 5 MB string in job data never becomes a 5 MB `failedReason` or
 * audit line. `undefined` is `nothing`.
 */
export function echoInput(value: unknown, max = ECHO_MAX_CHARS): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return cut(value, max, true);
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  return cut(json ?? String(value), max, false);
}

function cut(text: string, max: number, quote: boolean): string {
  const shown = (s: string) => (quote ? JSON.stringify(s) : s);
  if (text.length <= max) return shown(text);
  let head = text.slice(0, max);
  // Never end on half of a surrogate pair.
  const last = head.charCodeAt(head.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) head = head.slice(0, -1);
  return `${shown(`${head}…`)} (${text.length.toLocaleString('en-US')} characters)`;
}
