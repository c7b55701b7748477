import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin/recomart.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `recomart` CLI as a real process (build first: npm test does). */
export async function runRecomart(args: readonly string[], env: NodeJS.ProcessEnv = {}, options: { wrap?: readonly string[]; timeoutMs?: number } = {}): Promise<CliResult> {
  const command = options.wrap ? options.wrap[0] as string : process.execPath;
  const argv = options.wrap ? [...options.wrap.slice(1), process.execPath, BIN, ...args] : [BIN, ...args];
  const child = spawn(command, argv, { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const code = await new Promise<number | null>((resolve) => {
    child.once('exit', (c) => resolve(c));
    child.once('error', (err) => {
      stderr += `could not start ${command}: ${err.message}\n`;
      resolve(null);
    });
  });
  clearTimeout(timer);
  return { code, stdout, stderr };
}
