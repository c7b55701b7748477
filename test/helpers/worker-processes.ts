import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, ROOT } from './run-cli.js';

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  ready: Promise<void>;
  exited: Promise<number | null>;
  output(): string;
}

/** Spawns `recomart worker …` (built dist), resolving `ready` on its "worker-ready" log line. */
export function spawnWorker(env: Record<string, string>, args: readonly string[] = [], options: { wrap?: readonly string[] } = {}): WorkerProcess {
  const argv = [BIN, 'worker', '--no-http', ...args];
  // `wrap`: a command the worker runs under (e.g. `ip netns exec <ns>`, which execs: the pid stays the worker's).
  const child = spawn(options.wrap?.[0] ?? process.execPath, options.wrap ? [...options.wrap.slice(1), process.execPath, ...argv] : argv, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = () => {
      if (out.includes('"worker-ready"')) {
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    void exited.then((code) => reject(new Error(`worker exited early (${code}): ${out.slice(-2000)}`)));
  });
  ready.catch(() => undefined);
  return { child, pid: child.pid ?? -1, ready, exited, output: () => out };
}

/** SIGTERM (or `signal`) to every still-running worker, waiting for all to exit. */
export async function stopWorkers(workers: readonly WorkerProcess[], signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill(signal);
  const timer = setTimeout(() => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  }, 15_000);
  await Promise.all(workers.map((w) => w.exited));
  clearTimeout(timer);
}
