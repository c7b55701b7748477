/**
 * Characters of an outside value (job data, an environment variable, a flag)
 * that a message may repeat.
 * @defaultValue 200
 */
export const ECHO_MAX_CHARS = 200;

/**
 * What a message never shows as is: `"` and `\` (they would end or bend the
 * quoting), C0 and C1 controls and DEL, line and paragraph separators, bidi
 * and zero-width marks, the BOM, and a lone half of a surrogate pair —
 * everything a terminal or log viewer would act on or hide.
 */
const ESCAPED_RE = /["\\\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** The same, for text that is not quoted (JSON of a non-string value): its quotes and backslashes stay as they are. */
const ESCAPED_UNQUOTED_RE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const SHORT_ESCAPES: Readonly<Record<string, string>> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(c: string): string {
  return SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * Outside text as a message shows it — the one way this project repeats a
 * value it did not make (job data, a setting, a file name, a rejected CSV
 * field): every character a terminal would act on or hide escaped (`\n`,
 * `\u202e`, `\"`), and when that is longer than `max` (UTF-16 units of
 * the escaped text) cut after the last whole character that fits, with the
 * text's full length in characters (code points) said: `"abcd…" (5,242,880 characters)`. So a
 * hostile value can neither break a log line nor flood it. `quoted` (the
 * default) wraps it in double quotes.
 */
export function showText(text: string, options: { max?: number; quoted?: boolean } = {}): string {
  const max = options.max ?? ECHO_MAX_CHARS;
  const quoted = options.quoted !== false;
  const wrap = (s: string) => (quoted ? `"${s}"` : s);
  const re = quoted ? ESCAPED_RE : ESCAPED_UNQUOTED_RE;
  if (text.length <= max) {
    const whole = text.replace(re, escapeChar);
    if (whole.length <= max) return wrap(whole);
  }
  // Long, or short with escapes: as many whole characters as fit in `max` once escaped.
  let shown = '';
  let total = 0;
  let cut = false;
  for (const c of text) {
    total += 1;
    if (cut) continue;
    const e = c.replace(re, escapeChar);
    if (shown.length + e.length > max) cut = true;
    else shown += e;
  }
  return cut ? `${wrap(`${shown}…`)} (${total.toLocaleString('en-US')} characters)` : wrap(shown);
}

/**
 * An outside value as a validation message shows it: a string through
 * `showText` (quoted, cut at `max` with its length); any other value as its
 * JSON, unquoted, cut the same way. So a 5 MB string in job data never becomes
 * a 5 MB `failedReason` or audit line. `undefined` is `nothing`.
 */
export function echoInput(value: unknown, max = ECHO_MAX_CHARS): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return showText(value, { max });
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  return showText(json ?? String(value), { max, quoted: false });
}
