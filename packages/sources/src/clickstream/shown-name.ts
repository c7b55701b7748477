/** Longest a name is shown (in characters of the escaped text, quotes aside). */
export const SHOWN_NAME_CHARS = 60;

/** Characters a terminal or log viewer would act on or hide: C0/C1 controls, DEL, line and paragraph separators, bidi and zero-width marks, BOM. */
const INVISIBLE_RE = /^[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]$/;

function escapeChar(c: string): string {
  if (c === '"' || c === '\\') return `\\${c}`;
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  return INVISIBLE_RE.test(c) ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c;
}

/**
 * A name as a message may show it: every control or invisible character
 * escaped (`\n`, `\u202e`; `"` and `\` as in JSON) and the escaped text cut
 * after `max` characters with the name's full length said, so a hostile file
 * name can neither break a log line nor flood it. `quoted` (the default)
 * wraps it in double quotes.
 */
export function showName(name: string, options: { quoted?: boolean; max?: number } = {}): string {
  const max = options.max ?? SHOWN_NAME_CHARS;
  const chars = Array.from(name);
  let shown = '';
  let cut = false;
  for (const c of chars) {
    const e = escapeChar(c);
    if (shown.length + e.length > max) {
      cut = true;
      break;
    }
    shown += e;
  }
  const body = options.quoted === false ? shown : `"${shown}"`;
  return cut ? `${body}… (${chars.length} characters)` : body;
}
