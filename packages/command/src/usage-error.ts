/**
 * Thrown when a command is called wrongly or given bad input (a bad flag, a
 * bad date, a bad environment variable). The dispatcher prints its message as
 * one line on stderr and exits 2.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
