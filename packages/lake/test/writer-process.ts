import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/lake-writer.mjs', import.meta.url));

/**
 * The writer child imports the built `dist/`; refuse to test a stale build
 * (every `src/*.ts` must have a `dist/*.js` at least as new).
 */
export function assertLakeBuilt(): void {
  const src = path.join(PACKAGE, 'src');
  for (const name of readdirSync(src)) {
    if (!name.endsWith('.ts')) continue;
    const built = path.join(PACKAGE, 'dist', name.replace(/\.ts$/, '.js'));
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(path.join(src, name)).mtimeMs) {
      throw new Error(`packages/lake/dist is missing or older than src/${name}: run "npx tsc -b tsconfig.build.json" first`);
    }
  }
}

export interface WriterRun {
  /** Every line the child printed before it ended. */
  lines: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** The `result` line's content, when the child got that far. */
  result: { status: 'committed' | 'unchanged'; version: number } | undefined;
}

export interface WriterOptions {
  dataDir: string;
  seed: number;
  files?: number;
  fileBytes?: number;
  runId?: string;
  /** SIGKILL the child as soon as it printed this many lines (0: right after it started). */
  killAfterLines?: number;
  /** SIGKILL the child as soon as it printed a line starting with this. */
  killOnLine?: string;
  /** Pause after "staged" until `go()` is called. */
  waitGo?: boolean;
  /** The child prints a line before each filesystem change the lake makes. */
  traceFs?: boolean;
  /** An S3 lake instead of the folder: its LAKE_URL, endpoint, and the credentials' environment. */
  s3?: { lakeUrl: string; endpoint: string; env: Record<string, string> };
}

export interface WriterHandle {
  /** Resolves once the child printed "staged" (with waitGo). */
  staged: Promise<void>;
  /** Lets a waiting child commit. */
  go(): void;
  /** Resolves once the child exited and its output closed. */
  finished: Promise<WriterRun>;
  kill(): void;
}

/** Starts the writer fixture in its own process. */
export function startWriter(options: WriterOptions): WriterHandle {
  const args = [FIXTURE, '--data-dir', options.dataDir, '--seed', String(options.seed)];
  if (options.files !== undefined) args.push('--files', String(options.files));
  if (options.fileBytes !== undefined) args.push('--file-bytes', String(options.fileBytes));
  if (options.runId !== undefined) args.push('--run-id', options.runId);
  if (options.waitGo) args.push('--wait-go');
  if (options.traceFs) args.push('--trace-fs');
  if (options.s3) args.push('--lake-url', options.s3.lakeUrl, '--s3-endpoint', options.s3.endpoint);
  const env = options.s3 ? { ...process.env, ...options.s3.env } : process.env;
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  const lines: string[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => (stderr += s));
  child.stdin.on('error', () => undefined); // the child may be dead before we write "go"
  let onStaged: () => void = () => undefined;
  const staged = new Promise<void>((resolve) => (onStaged = resolve));
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  if (options.killAfterLines === 0) child.once('spawn', kill);
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    if (options.killAfterLines !== undefined && lines.length >= options.killAfterLines) kill();
    if (options.killOnLine !== undefined && line.startsWith(options.killOnLine)) kill();
    if (line === 'staged') onStaged();
  });
  const finished = new Promise<WriterRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const last = lines.find((l) => l.startsWith('result '));
      resolve({ lines, code, signal, stderr, result: last ? (JSON.parse(last.slice('result '.length)) as WriterRun['result']) : undefined });
    });
  });
  return {
    staged,
    go: () => child.stdin.end('go\n'),
    finished,
    kill,
  };
}
