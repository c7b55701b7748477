import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, RepeatLimitedLog } from '@recomart/logging';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, logger: createLogger({ app: 'test', destination }) };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('RepeatLimitedLog', () => {
  it('writes the first of identical lines, counts the rest and says how many were suppressed when the window ends', async () => {
    vi.useFakeTimers();
    const { lines, logger } = capture();
    const log = new RepeatLimitedLog(logger, { windowMs: 10_000 });
    const oom = { err: "OOM command not allowed when used memory > 'maxmemory'.", queue: 'ingest-products' };
    for (let i = 0; i < 1258; i++) log.error(oom, 'worker error');
    log.error({ ...oom, queue: 'ingest-clickstream' }, 'worker error');
    await vi.advanceTimersByTimeAsync(10_000);
    logger.flush();
    await vi.runAllTimersAsync();
    expect(lines.map((l) => [l.level, l.queue, l.msg, l.suppressed])).toEqual([
      ['error', 'ingest-products', 'worker error', undefined],
      ['error', 'ingest-clickstream', 'worker error', undefined],
      ['error', 'ingest-products', 'worker error (1257 more suppressed in 10 s)', 1257],
    ]);
    // A new window starts with the next line.
    log.error(oom, 'worker error');
    log.close();
    logger.flush();
    await vi.runAllTimersAsync();
    expect(lines).toHaveLength(4);
  });

  it('a window of 0 writes every line', () => {
    const { lines, logger } = capture();
    const log = new RepeatLimitedLog(logger, { windowMs: 0 });
    for (let i = 0; i < 5; i++) log.warn({ n: 1 }, 'same');
    logger.flush();
    expect(lines).toHaveLength(5);
  });
});
