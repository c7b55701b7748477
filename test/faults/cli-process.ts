import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, ROOT } from '../helpers/run-cli.js';

/** A `recomart …` process the test can watch while it runs. */
export interface CliProcess {
  child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** Resolves once the output contains `text`; rejects if the process exits first. */
  waitForOutput(text: string): Promise<void>;
  exited: Promise<number | null>;
  /** SIGKILL when still running. */
  kill(): void;
}

/** Spawns the built `recomart` CLI (build first). */
export function spawnRecomart(args: readonly string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of [...listeners]) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  return {
    child,
    output: () => out,
    exited,
    waitForOutput(text) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (out.includes(text)) {
            listeners.delete(check);
            resolve();
          }
        };
        listeners.add(check);
        check();
        void exited.then((code) => {
          if (!out.includes(text)) reject(new Error(`recomart ${args.join(' ')} exited (${code}) without printing ${JSON.stringify(text)}: ${out.slice(-2000)}`));
        });
      });
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
