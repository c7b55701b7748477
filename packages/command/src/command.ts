import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Parsed flags: string or boolean values by name, plus positionals. */
export interface ParsedFlags {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}
import { UsageError } from './usage-error.js';
import { ECHO_MAX_CHARS, echoInput } from '@recomart/logging';

/** Where a command writes and what it reads: injected so commands are testable in-process. */
export interface CommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM; long-running commands stop when it fires. */
  readonly signal: AbortSignal;
}

export type OptionsSpec = NonNullable<ParseArgsConfig['options']>;

/** One `recomart` subcommand. `run` resolves to the exit code (0 ok, 1 failure, 2 bad usage). */
export interface Command {
  readonly name: string;
  /** One line for `recomart --help`. */
  readonly summary: string;
  /** The full `--help` text: usage line, options, examples. */
  readonly help: string;
  run(argv: readonly string[], io: CommandIo): Promise<number>;
}

/**
 * Parses argv strictly against `options`; unknown flags, missing values and
 * stray positionals become a UsageError naming the command.
 */
export function parseFlags(command: string, argv: readonly string[], options: OptionsSpec, allowPositionals = false): ParsedFlags {
  try {
    const parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals });
    return { values: parsed.values as ParsedFlags['values'], positionals: parsed.positionals };
  } catch (err) {
    let msg = err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
    // Node repeats the offending argument (twice for an unknown option): a long one is shown cut, with its length.
    for (const arg of argv) if (arg.length > ECHO_MAX_CHARS) msg = msg.split(arg).join(echoInput(arg));
    // The dispatcher already names the command ("recomart lake: …"); name only a sub-command here.
    const sub = command.split(' ').slice(1).join(' ');
    throw new UsageError(sub ? `${sub}: ${msg}` : msg);
  }
}

/** A string flag's value, or undefined; a UsageError when given as a bare boolean. */
export function stringFlag(flags: ParsedFlags, name: string): string | undefined {
  const v = flags.values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new UsageError(`--${name} needs a value`);
  return v;
}

/** A boolean flag's value. */
export function boolFlag(flags: ParsedFlags, name: string): boolean {
  return flags.values[name] === true;
}

/** Parses a whole-number flag value; a UsageError otherwise. */
export function intFlag(flag: string, raw: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, got ${echoInput(raw)}`);
  }
  return Number(raw);
}

/** Writes a JSON document on stdout (for `--json`). */
export function printJson(io: CommandIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
