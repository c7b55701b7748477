import { showText } from '@recomart/logging';

/** Longest a landing file name is shown, in characters. */
export const SHOWN_NAME_CHARS = 60;

/**
 * A landing file name as a message shows it: `showText` (every control or
 * invisible character escaped, cut after SHOWN_NAME_CHARS with the name's full
 * length said), so a hostile file name can neither break a log line nor flood
 * it. `quoted` (the default) wraps it in double quotes.
 */
export function showName(name: string, options: { quoted?: boolean; max?: number } = {}): string {
  return showText(name, { max: options.max ?? SHOWN_NAME_CHARS, quoted: options.quoted });
}
