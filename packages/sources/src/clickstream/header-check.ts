import { COLUMNS, CONTRACT_HEADER, quoteValue } from './contract.js';

/** What a header problem message ends with. */
export const HEADER_EXPECTED = `exactly the columns ${CONTRACT_HEADER} in any order`;

/**
 * Compares a header (BOM already stripped) with the contract.
 * @returns the problem as `header is missing "device", has unknown column "devise"`, or undefined when it matches.
 */
export function checkHeader(names: readonly string[]): string | undefined {
  const seen = new Set<string>();
  const unknown: string[] = [];
  const duplicate: string[] = [];
  const wanted: ReadonlySet<string> = new Set(COLUMNS);
  for (const name of names) {
    if (seen.has(name)) duplicate.push(name);
    else if (!wanted.has(name)) unknown.push(name);
    seen.add(name);
  }
  const missing = COLUMNS.filter((c) => !seen.has(c));
  const problems: string[] = [];
  const list = (xs: readonly string[]) => xs.map(quoteValue).join(', ');
  if (missing.length > 0) problems.push(`is missing ${list(missing)}`);
  if (unknown.length > 0) problems.push(`has unknown column${unknown.length > 1 ? 's' : ''} ${list(unknown)}`);
  if (duplicate.length > 0) problems.push(`has duplicate column${duplicate.length > 1 ? 's' : ''} ${list(duplicate)}`);
  return problems.length === 0 ? undefined : `header ${problems.join(', ')}`;
}
