// A `recomart worker` process (built dist) for the benchmarks, resolving `ready` on its "worker-ready" log line.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/recomart.js', import.meta.url));

/** Spawns `recomart worker --no-http …args` with `env` (logging at info, which the ready line needs). */
export function spawnBenchWorker(env, args) {
  const child = spawn(process.execPath, [BIN, 'worker', '--no-http', ...args], { env: { ...env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('"worker-ready"')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
  });
  ready.catch(() => undefined);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { child, ready, exited };
}
