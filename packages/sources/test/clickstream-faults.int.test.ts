import { afterEach, describe, expect, it } from 'vitest';
import { TransientError, classifyError } from '@recomart/jobs';
import { nodeFileSystem, type LakeFileSystem, type WriteHandle } from '@recomart/lake';
import { GOOD, HEADER, clickstreamHarness, csv, type ClickstreamHarness } from './clickstream-harness.js';

/** Lake files whose name ends with `suffix` take `capacity` bytes, then fail with ENOSPC. */
function diskFullAfter(capacity: number, suffix: string): Partial<LakeFileSystem> {
  return {
    async createFile(file: string): Promise<WriteHandle> {
      const real = await nodeFileSystem.createFile(file);
      if (!file.endsWith(suffix)) return real;
      let written = 0;
      return {
        async write(bytes: Uint8Array): Promise<void> {
          if (written + bytes.byteLength > capacity) throw Object.assign(new Error('ENOSPC: injected, write'), { code: 'ENOSPC', syscall: 'write' });
          written += bytes.byteLength;
          await real.write(bytes);
        },
        sync: () => real.sync(),
        close: () => real.close(),
      };
    },
  };
}

describe('clickstream source when the lake disk fails', () => {
  let h: ClickstreamHarness | undefined;
  afterEach(async () => {
    await h?.close();
  });

  it('a full disk while copying a file: retryable, nothing committed, staging cleaned', async () => {
    h = await clickstreamHarness({}, diskFullAfter(300_000, 'events.csv'));
    await h.land('events.csv', csv(HEADER, ...Array.from({ length: 50_000 }, () => GOOD)));
    const err = await h.runError();
    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toBe('lake: writing staged file "events.csv" failed: ENOSPC: injected, write');
    expect(classifyError(err).retryable).toBe(true);
    expect(await h.versions()).toEqual([]);
    expect(await h.staging()).toEqual([]);
  });

  it('a full disk while writing rejected rows (the parser waits on them): fails, does not hang', async () => {
    h = await clickstreamHarness({ CLICKSTREAM_MAX_REJECT_RATIO: '1' }, diskFullAfter(20_000, '_rejected.ndjson'));
    await h.land('events.csv', csv(HEADER, ...Array.from({ length: 50_000 }, () => '1001,2001,buy,2024-05-01T10:00:00.000Z,web')));
    const err = await h.runError();
    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toBe('lake: writing staged file "_rejected.ndjson" failed: ENOSPC: injected, write');
    expect(await h.versions()).toEqual([]);
    expect(await h.staging()).toEqual([]);
  });
});
