import { ConfigError } from '@recomart/config';
import { UsageError, type CommandIo } from '@recomart/command';
import { InvalidInputError } from '@recomart/jobs';
import { redactUrlSecrets } from '@recomart/logging';
import { COMMANDS } from './registry.js';

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'Usage: recomart <command> [options]',
    '',
    'RecoMart Ingest: fills the raw data lake from clickstream exports and the product API, on BullMQ workers.',
    '',
    'Commands:',
    ...lines,
    '',
    'Run "recomart <command> --help" for a command\'s options.',
    'Exit codes: 0 success, 1 failure, 2 bad usage or bad input.',
    '',
  ].join('\n');
}

/** A message that fits on one line of stderr, without URL credentials or secret query values. */
function line(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return redactUrlSecrets(msg.replace(/\s*\n\s*/g, ' '));
}

/**
 * Dispatches `argv` (without node and the script) to its command and resolves
 * to the exit code: 0 success, 1 failure, 2 bad usage or bad input.
 */
export async function runCli(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr.write('recomart: missing command (run "recomart --help" for the list)\n');
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(topHelp());
    return 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    io.stderr.write(`recomart: unknown command "${name}" (run "recomart --help" for the list)\n`);
    return 2;
  }
  try {
    const command = await entry.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(command.help.endsWith('\n') ? command.help : `${command.help}\n`);
      return 0;
    }
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError || err instanceof InvalidInputError) {
      io.stderr.write(`recomart ${name}: ${line(err)}\n`);
      return 2;
    }
    io.stderr.write(`recomart ${name}: ${line(err)}\n`);
    return 1;
  }
}

/**
 * `--exit-with-parent` (first argument, used by `recomart start` for its
 * children): stop gracefully, as on SIGTERM, once the process that started us
 * is gone, so a killed `start` leaves no orphans behind.
 */
const EXIT_WITH_PARENT = '--exit-with-parent';

function watchParent(controller: AbortController): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      controller.abort(new Error('parent process exited'));
    }
  }, 1000);
  timer.unref();
}

/** The process entry point used by `bin/recomart.js`. */
export async function main(): Promise<void> {
  const controller = new AbortController();
  let argv = process.argv.slice(2);
  if (argv[0] === EXIT_WITH_PARENT) {
    argv = argv.slice(1);
    watchParent(controller);
  }
  // A closed pipe on stdout (`recomart status | head -1`) ends the command quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  const io: CommandIo = { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal };
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      process.stderr.write(`recomart: second ${sig}, exiting now\n`);
      process.exit(130);
    }
    controller.abort(new Error(`received ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const code = await runCli(argv, io);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.exitCode = code;
}
