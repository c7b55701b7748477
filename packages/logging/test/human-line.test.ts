import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger, humanLine } from '../src/index.js';

const at = new Date(2026, 10, 29, 11, 0, 37).toISOString(); // 11:00:37 local time

describe('humanLine', () => {
  it('renders a job outcome as one compact line', () => {
    const line = humanLine(
      { time: at, level: 'info', source: 'clickstream', date: '2026-11-29', event: 'committed', version: 1, records: 20000, rejected: 0, durationMs: 158.4, msg: 'ingest committed' },
      false,
    );
    expect(line).toBe('11:00:37 clickstream 2026-11-29 committed v1 · 20,000 rows · 0 rejected · 158 ms');
  });

  it('says records for products and unchanged for a repeat', () => {
    const line = humanLine({ time: at, level: 'info', source: 'products', date: '2026-11-29', event: 'unchanged', version: 3, records: 1500, rejected: 2, msg: 'ingest unchanged' }, false);
    expect(line).toBe('11:00:37 products 2026-11-29 unchanged v3 · 1,500 records · 2 rejected');
  });

  it('names the level of warnings and errors in words, with the reason and the retry delay', () => {
    expect(humanLine({ time: at, level: 'warn', source: 'products', date: '2026-11-29', delayMs: 4200, msg: 'HTTP 503' }, false)).toBe(
      '11:00:37 WARN products 2026-11-29 HTTP 503 (again in 5 s)',
    );
    expect(humanLine({ time: at, level: 'error', err: { message: 'boom' }, msg: 'worker error' }, false)).toBe('11:00:37 ERROR worker error: boom');
    expect(humanLine({ time: at, level: 'error', err: 'boom', msg: 'boom' }, false)).toBe('11:00:37 ERROR boom');
  });

  it('does not repeat the partition a message already starts with', () => {
    expect(humanLine({ time: at, level: 'info', source: 'clickstream', date: '2026-11-30', msg: 'clickstream 2026-11-30 committed as version 1' }, false)).toBe(
      '11:00:37 clickstream 2026-11-30 committed as version 1',
    );
  });

  it('highlights only with colour on, and info lines keep their plain text', () => {
    const warn = humanLine({ time: at, level: 'warn', msg: 'careful' }, true);
    expect(warn).toMatch(/\u001b\[33mWARN\u001b\[39m/);
    expect(warn.replace(/\u001b\[[0-9;]*m/g, '')).toBe('11:00:37 WARN careful');
    expect(humanLine({ time: at, level: 'info', msg: 'ready' }, false)).not.toMatch(/\u001b/);
  });
});

describe('createLogger formats', () => {
  function capture(): { stream: Writable; text: () => string } {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    return { stream, text: () => chunks.join('') };
  }

  it('writes JSON objects by default and human lines with format pretty, secrets scrubbed in both', () => {
    const json = capture();
    createLogger({ app: 't', destination: json.stream, secrets: ['s3cret'] }).info({ source: 'products' }, 'token s3cret used');
    const parsed = JSON.parse(json.text()) as Record<string, unknown>;
    expect(parsed).toMatchObject({ app: 't', level: 'info', source: 'products', msg: 'token [REDACTED] used' });

    const pretty = capture();
    createLogger({ app: 't', destination: pretty.stream, format: 'pretty', secrets: ['s3cret'] }).warn({ source: 'products' }, 'token s3cret used');
    expect(pretty.text()).toMatch(/^\d\d:\d\d:\d\d WARN products token \[REDACTED\] used\n$/);
  });
});
