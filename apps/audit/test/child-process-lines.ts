import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/recomart.js');

/** A `recomart` child process (the built dist) whose stdout JSON log lines can be awaited. */
export class RecomartProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly lines: Record<string, unknown>[] = [];
  private readonly waiters: { test: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }[] = [];
  stderr = '';

  constructor(args: readonly string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    const rl = createInterface({ input: this.child.stdout as NodeJS.ReadableStream });
    rl.on('line', (text) => {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return;
      }
      this.lines.push(line);
      for (const w of [...this.waiters]) {
        if (w.test(line)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    });
  }

  /** Resolves with the first log line (seen already or to come) that passes `test`; rejects if the process exits first. */
  waitForLine(test: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return Promise.race([
      new Promise<Record<string, unknown>>((resolve) => this.waiters.push({ test, resolve })),
      this.exited.then(({ code, signal }) => {
        throw new Error(`recomart exited (code ${String(code)}, signal ${String(signal)}) before the awaited line; stderr: ${this.stderr}`);
      }),
    ]);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}
