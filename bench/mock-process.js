// `recomart mock-api --port 0 …` in a child process, for the benchmarks: the
// mock runs apart from the client, as a real catalogue service would.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/recomart.js', import.meta.url));

/** Starts the mock with `args`; `ready` resolves with its URL once it listens. */
export function spawnMock(args) {
  const child = spawn(process.execPath, [BIN, 'mock-api', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const ready = new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`mock-api exited early with ${code}`)));
  });
  return { child, ready, exited };
}
