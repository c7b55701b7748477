import { PassThrough } from 'node:stream';
import type { CommandIo } from '@recomart/command';

export interface CapturedIo extends CommandIo {
  out(): string;
  err(): string;
  abort(): void;
}

/** A CommandIo whose stdout and stderr are collected in memory. */
export function captureIo(env: NodeJS.ProcessEnv = {}): CapturedIo {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const controller = new AbortController();
  return {
    stdout,
    stderr,
    env: { PATH: process.env.PATH, ...env },
    signal: controller.signal,
    out: () => out,
    err: () => err,
    abort: () => controller.abort(),
  };
}
