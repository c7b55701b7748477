import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** One named child process of the local stack, its output prefixed with its name. */
export interface StackProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}

/** Spawns `command args` with every output line prefixed `[name] ` on `out`. */
export function spawnPrefixed(
  name: string,
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  out: NodeJS.WritableStream,
  width: number,
): StackProcess {
  // Its own process group: a terminal's Ctrl-C reaches only `recomart start`,
  // which then stops each part once, in order.
  const child = spawn(command, [...args], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const prefix = `[${name}]`.padEnd(width + 2);
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => out.write(`${prefix} ${line}\n`));
  }
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null)));
    child.once('error', (err) => {
      out.write(`${prefix} could not start: ${err.message}\n`);
      resolve(1);
    });
  });
  return { name, child, exited };
}

const running = (p: StackProcess) => p.child.exitCode === null && p.child.signalCode === null;
const stopping = new WeakSet<StackProcess>();

/** SIGTERM to each (once), then SIGKILL to whatever still runs after `graceMs`. */
export async function stopAll(processes: readonly StackProcess[], graceMs: number): Promise<void> {
  for (const p of processes) {
    if (running(p) && !stopping.has(p)) {
      stopping.add(p);
      p.child.kill('SIGTERM');
    }
  }
  const timer = setTimeout(() => {
    for (const p of processes) if (running(p)) p.child.kill('SIGKILL');
  }, graceMs);
  await Promise.all(processes.map((p) => p.exited));
  clearTimeout(timer);
}
