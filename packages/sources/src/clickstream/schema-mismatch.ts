import { SchemaMismatchError } from '@recomart/jobs';

/**
 * The one shape of a schema-mismatch message: which file, which line, what is
 * wrong and what was expected, on one line.
 *
 * @example `clickstream/2024-05-01/events.csv line 1: header has unknown column "devise"; expected exactly the columns user_id,…`
 */
export function schemaMismatch(file: string, line: number, problem: string, expected: string): SchemaMismatchError {
  return new SchemaMismatchError(`${file} line ${line}: ${problem}; expected ${expected}`);
}
